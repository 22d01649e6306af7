using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Audio;
using Casebook.Extract.Documents;
using Casebook.Model;
using Casebook.Search.Text;
using Casebook.Segment;
using Casebook.Storage;

namespace Casebook.Ingest;

/// <summary>
/// Turns one <see cref="StudyInput"/> into a <see cref="StudyRecord"/> without vectors: reads the report and
/// images, stores binaries in the blob store, segments the report into paragraphs with character offsets,
/// computes sparse terms and pseudonymises the patient. Embedding happens later, in batches.
/// </summary>
public sealed class StudyBuilder(BlobStore blobs, PatientPseudonym pseudonym, IngestOptions options) : IDisposable
{
    // Scanned reports and dictations: the extractor and the speech engine are made on first use and shared by every
    // study of this ingest (loading the acoustic model once per ingest, not once per study).
    DocumentTextExtractor? _documents;
    ISpeechToText? _speech;

    public void Dispose() { _speech?.Dispose(); _speech = null; }

    /// <summary>DICOM ingest: where problems with single instances go (the study goes on without them).</summary>
    public List<IngestError> Errors { get; init; } = new();
    /// <summary>DICOM ingest: the PS3.15 de-identifier for stored DICOM; null = none, so no DICOM bytes are stored (fail closed).</summary>
    public Dicom.IDicomDeidentifier? Deidentifier { get; init; }

    public StudyRecord Build(StudyInput input)
    {
        var study = new StudyRecord
        {
            StudyId = input.StudyId,
            PatientPseudoId = pseudonym.Pseudonymise(input.Issuer, input.PatientId),
            Modality = input.Modality?.ToUpperInvariant(),
            ExamDate = input.ExamDate,
        };
        var sources = new JsonArray();
        if (input.ReportPath != null || input.ReportText != null)
        {
            // Scanned reports: a PDF/TIFF/PNG/JPEG report is kept as report_pdf and its extracted text (text layer or
            // OCR) becomes report_text; paragraphs then carry the 1-based page that holds their first character.
            ExtractedDocument? document = input.ReportText == null && IsDocumentReport(input.ReportPath!) ? ExtractDocument(study, input.ReportPath!) : null;
            study.ReportText = input.ReportText ?? document?.FullText ?? ReadReport(input.ReportPath!);
            if (input.ReportPath != null) sources.Add(Path.GetFileName(input.ReportPath));
            var paragraphs = ReportSegmenter.Segment(study.ReportText);
            for (var i = 0; i < paragraphs.Count; i++)
            {
                var p = paragraphs[i];
                study.Segments.Add(new SegmentRecord
                {
                    SegmentId = $"{input.StudyId}/{SegmentKind.ReportParagraph}/{i}",
                    Kind = SegmentKind.ReportParagraph,
                    Text = p.Text,
                    Source = new SourceLocation
                    {
                        File = input.ReportPath == null ? null : Path.GetFileName(input.ReportPath), Section = p.Section, CharStart = p.CharStart, CharEnd = p.CharEnd,
                        Page = document?.PageAt(p.CharStart), // scanned reports only; typed reports keep Page null (same content hash as before)
                    },
                });
            }
            study.SparseTerms = SparseTerms.Compute(study.ReportText);
        }
        // Dictations: the recording is kept as dictation_audio and each transcript segment becomes a dictation_segment
        // with its time span (embedded and BM25-indexed like report paragraphs).
        if (input.DictationPath != null)
        {
            var transcript = Transcribe(study, input.DictationPath);
            sources.Add(Path.GetFileName(input.DictationPath));
            var n = 0;
            foreach (var seg in transcript.Segments)
            {
                var text = seg.Text.Trim();
                if (text.Length == 0) continue;
                study.Segments.Add(new SegmentRecord
                {
                    SegmentId = $"{input.StudyId}/{SegmentKind.DictationSegment}/{n++}",
                    Kind = SegmentKind.DictationSegment,
                    Text = text,
                    Source = new SourceLocation { File = Path.GetFileName(input.DictationPath), TimeStart = seg.Start, TimeEnd = seg.End },
                });
            }
            // Sparse terms cover the dictation too (report text first, when there is one).
            if (transcript.Text.Length > 0)
                study.SparseTerms = SparseTerms.Compute(study.ReportText == null ? transcript.Text : study.ReportText + "\n\n" + transcript.Text);
        }
        // DICOM ingest: a DICOM-discovered study, or DICOM files/folders/zips named in a manifest's images column.
        var dicomPaths = input.DicomStudy != null ? input.ImagePaths.ToList() : input.ImagePaths.Where(IsDicomPath).ToList();
        var imagePaths = input.ImagePaths.Except(dicomPaths).ToList();
        for (var i = 0; i < imagePaths.Count; i++)
        {
            var path = imagePaths[i];
            var bytes = ReadBinary(path, options.MaxImageBytes);
            var mime = ImageMime(bytes) ?? throw new InvalidDataException($"{path}: not a PNG or JPEG image");
            var blob = blobs.Put(bytes);
            if (i == 0) { study.DicomImage = blob; study.DicomMime = mime; } // key image: the one shown first
            sources.Add(Path.GetFileName(path));
            study.Segments.Add(new SegmentRecord
            {
                SegmentId = $"{input.StudyId}/{SegmentKind.ImageSlice}/{i}",
                Kind = SegmentKind.ImageSlice,
                Blob = blob,
                BlobMime = mime,
                Source = new SourceLocation { File = Path.GetFileName(path), Frame = 0 },
            });
        }
        if (dicomPaths.Count > 0)
        {
            var series = input.DicomStudy?.Series ?? ReadDicomSeries(dicomPaths);
            var slicer = new Dicom.DicomSlicer(blobs, pseudonym, options.Dicom, Deidentifier, Errors, input.Issuer);
            if (slicer.AddTo(study, series) == 0 && study.Segments.Count == 0)
                throw new InvalidDataException("no DICOM image instances (only non-image objects, or none readable)");
            if (input.DicomStudy != null && study.ExamDate == null && series.Count > 0)
                study.ExamDate = slicer.ShiftedExamDate(series[0], input.PatientId);
        }
        if (study.Segments.Count == 0) throw new InvalidDataException("study has neither a report nor images");
        study.Metadata["source_files"] = sources;
        foreach (var (key, value) in input.Extra) Demographics.AddToMetadata(study.Metadata, key, value);
        return study;
    }

    /// <summary>Scanned reports: a report file that is a PDF or image scan (by extension, or by content for misnamed files).</summary>
    static bool IsDocumentReport(string path) =>
        DocumentTextExtractor.SupportedExtensions.Contains(Path.GetExtension(path).ToLowerInvariant())
        || (File.Exists(path) && new FileInfo(path).Length > 0 && DocumentTextExtractor.DetectFormat(path) != "unknown");

    /// <summary>Scanned reports: stores the original as report_pdf (mime in metadata report_mime) and extracts its text.</summary>
    ExtractedDocument ExtractDocument(StudyRecord study, string path)
    {
        _documents ??= new DocumentTextExtractor(options.Documents);
        ExtractedDocument document;
        try { document = _documents.Extract(path); }
        catch (DocumentExtractionException e) { throw new IngestFileException(path, e.Message, e); }
        var bytes = File.ReadAllBytes(path);
        study.ReportPdf = blobs.Put(bytes);
        study.Metadata["report_mime"] = document.Format switch
        {
            "pdf" => "application/pdf", "tiff" => "image/tiff", "png" => "image/png", "jpeg" => "image/jpeg", _ => "application/octet-stream",
        };
        return document;
    }

    /// <summary>Dictations: decodes, stores the original as dictation_audio (+ mime) and transcribes with the configured engine.</summary>
    Transcript Transcribe(StudyRecord study, string path)
    {
        if (!File.Exists(path)) throw new IngestFileException(path, $"{Path.GetFileName(path)}: dictation file not found");
        DecodedAudio audio;
        try { audio = AudioDecoder.Decode(path); }
        catch (AudioDecodeException e) { throw new IngestFileException(path, e.Message, e); }
        Transcript transcript;
        try
        {
            _speech ??= SpeechToText.Create(options.SpeechToText);
            transcript = _speech.Transcribe(audio);
        }
        catch (SpeechToTextException e) { throw new IngestFileException(path, $"{Path.GetFileName(path)}: transcription failed: {e.Message}", e); }
        study.DictationAudio = blobs.Put(File.ReadAllBytes(path));
        study.DictationAudioMime = audio.Format switch
        {
            "wav" => "audio/wav", "mp3" => "audio/mpeg", "ogg" => "audio/ogg", "flac" => "audio/flac", "m4a" => "audio/mp4", "aac" => "audio/aac", _ => "application/octet-stream",
        };
        return transcript;
    }

    static bool IsDicomPath(string path) =>
        Directory.Exists(path) || Dicom.DicomDiscovery.IsZip(path) || (File.Exists(path) && ImageMime(ReadHead(path)) == null && Dicom.DicomDiscovery.IsDicomCandidate(path));

    static byte[] ReadHead(string path)
    {
        using var fs = File.OpenRead(path);
        var head = new byte[16];
        return head[..fs.Read(head)];
    }

    /// <summary>A manifest row's DICOM (files, folders, zips, DICOMDIRs): all series, whatever their StudyInstanceUID — the row names the study.</summary>
    List<Casebook.Extract.Dicom.DicomSeries> ReadDicomSeries(List<string> paths)
    {
        var instances = new List<Casebook.Extract.Dicom.DicomInstance>();
        foreach (var path in paths)
        {
            if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
            var skipped = new List<string>();
            instances.AddRange(Casebook.Extract.Dicom.DicomCatalog.Enumerate(path, skipped));
            foreach (var s in skipped) Errors.Add(new IngestError(path, "not readable as DICOM: " + s));
        }
        return Casebook.Extract.Dicom.DicomCatalog.Group(instances).SelectMany(s => s.Series).ToList();
    }

    string ReadReport(string path)
    {
        var bytes = ReadBinary(path, options.MaxReportBytes);
        if (bytes.AsSpan().IndexOf((byte)0) >= 0) throw new InvalidDataException($"{path}: report holds NUL bytes (binary file, not text)");
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF'); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); } // legacy exports are often Latin-1
    }

    static byte[] ReadBinary(string path, long max)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found");
        var length = new FileInfo(path).Length;
        if (length > max) throw new InvalidDataException($"{path}: {length} bytes exceeds the limit of {max} bytes");
        if (length == 0) throw new InvalidDataException($"{path}: file is empty");
        return File.ReadAllBytes(path);
    }

    /// <summary>MIME type from the file's magic bytes (never trust the extension).</summary>
    public static string? ImageMime(ReadOnlySpan<byte> b) =>
        b.Length > 8 && b[0] == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G' ? "image/png"
        : b.Length > 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF ? "image/jpeg"
        : null;
}

/// <summary>Ingest settings; limits protect against huge or hostile inputs.</summary>
public sealed class IngestOptions
{
    /// <summary>Studies per commit: a crash loses at most the batch in flight.</summary>
    public int BatchSize { get; set; } = 256;
    public long MaxReportBytes { get; set; } = 16 << 20;
    public long MaxImageBytes { get; set; } = 512L << 20;
    public string? Message { get; set; }
    /// <summary>DICOM ingest: embedding budgets per series and device identity (Ingest/Dicom).</summary>
    public Dicom.DicomIngestOptions Dicom { get; set; } = new();
    /// <summary>Scanned reports: limits and OCR settings for PDF/TIFF/PNG/JPEG reports.</summary>
    public DocumentExtractionOptions Documents { get; set; } = new();
    /// <summary>Dictations: the speech-to-text engine (default: offline PocketSphinx), loaded once per ingest.</summary>
    public SpeechToTextOptions SpeechToText { get; set; } = new() { Engine = SpeechToTextOptions.PocketSphinx };
    /// <summary>FHIR ingest: patient issuer and the timeline windows (Ingest/Fhir, Timeline/).</summary>
    public Fhir.FhirIngestOptions Fhir { get; set; } = new();
}

/// <summary>Scanned reports and dictations: a document or recording that cannot be read; <see cref="File"/> is the file at fault.</summary>
public sealed class IngestFileException(string file, string message, Exception? inner = null) : IOException(message, inner)
{
    public string File { get; } = file;
}
