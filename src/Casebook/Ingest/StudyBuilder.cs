using System.Text;
using System.Text.Json.Nodes;
using Casebook.Extract.Audio;
using Casebook.Extract.Clinical.Phi;
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
            ExamDate = ShiftedExamDate(input),
        };
        var sources = new JsonArray();
        var phi = Casebook.Extract.Clinical.Phi.StudyTextDeidentification.For(options.TextDeidentification, pseudonym, input.Issuer, input.PatientId); // PHI out of text before it is stored
        if (input.ReportPath != null || input.ReportText != null)
        {
            // Scanned reports: a PDF/TIFF/PNG/JPEG report is kept as report_pdf and its extracted text (text layer or
            // OCR) becomes report_text; paragraphs then carry the 1-based page that holds their first character.
            ExtractedDocument? document = input.ReportText == null && IsDocumentReport(input.ReportPath!) ? ExtractDocument(study, input.ReportPath!) : null;
            AddReport(study, input.ReportText ?? document?.FullText ?? ReadReport(input.ReportPath!), document, input.ReportTextDeidentified ? null : phi, input.ReportPath == null ? null : Path.GetFileName(input.ReportPath));
            if (input.ReportPath != null) sources.Add(Path.GetFileName(input.ReportPath));
        }
        // Dictations: the recording is kept as dictation_audio and each transcript segment becomes a dictation_segment
        // with its time span (embedded and BM25-indexed like report paragraphs).
        if (input.DictationPath != null)
        {
            AddDictation(study, input.DictationPath, phi);
            sources.Add(Path.GetFileName(input.DictationPath));
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
        var regions = new Dicom.DicomRegions(blobs, pseudonym, options.Dicom, Deidentifier, Errors, input.Issuer); // issue 8: SEG/RTSTRUCT/NIfTI → image_regions
        if (dicomPaths.Count > 0)
        {
            var series = input.DicomStudy?.Series ?? ReadDicomSeries(dicomPaths);
            // Linking: Encapsulated PDFs become the report (not slices); the AccessionNumber is kept as a keyed hash.
            series = AddDicomReports(study, input.StudyId, series, sources, phi);
            var slicer = new Dicom.DicomSlicer(blobs, pseudonym, options.Dicom, Deidentifier, Errors, input.Issuer);
            if (slicer.AddTo(study, series) == 0 && study.Segments.Count == 0)
                throw new InvalidDataException("no DICOM image instances (only non-image objects, or none readable)");
            regions.AddTo(study, series);
            Dicom.DicomAnatomy.AddCtRuleAnatomy(study, series, pseudonym, options.Dicom, regions); // CT rule masks → anatomical_regions
            if (input.DicomStudy != null && study.ExamDate == null && series.Count > 0)
                study.ExamDate = slicer.ShiftedExamDate(series[0], input.PatientId);
        }
        regions.AddNifti(study, input.RegionMasks);
        if (study.Segments.Count == 0) throw new InvalidDataException("study has neither a report nor images");
        UpdateSparseTerms(study);
        Casebook.Extract.Clinical.StudyAnnotation.Annotate(study); // clinical NLP: findings, regions, risk factors, codes (Extract/Clinical)
        study.Metadata["source_files"] = sources;
        phi?.WriteMetadata(study.Metadata);
        foreach (var (key, value) in input.Extra) Demographics.AddToMetadata(study.Metadata, key, value);
        Casebook.Extract.Anatomy.StudyAnatomy.AddFromHeader(study); // header anatomy (Body Part Examined) next to text anatomy
        return study;
    }

    /// <summary>
    /// Appends report text (typed, text layer or OCR) and its paragraphs: offsets point into the study's whole report_text,
    /// so a report attached to a study that already has one follows it after a blank line.
    /// </summary>
    void AddReport(StudyRecord study, string text, ExtractedDocument? document, StudyTextDeidentification? phi, string? fileName)
    {
        // Text de-identification: PHI leaves the text before it is stored; pages map back through the replaced spans.
        var deid = phi?.Apply(text);
        text = deid?.Text ?? text;
        var offset = 0;
        if (study.ReportText is { Length: > 0 } before) { offset = before.Length + 2; study.ReportText = before + "\n\n" + text; }
        else study.ReportText = text;
        var first = NextIndex(study, SegmentKind.ReportParagraph);
        var paragraphs = ReportSegmenter.Segment(text);
        for (var i = 0; i < paragraphs.Count; i++)
        {
            var p = paragraphs[i];
            study.Segments.Add(new SegmentRecord
            {
                SegmentId = $"{study.StudyId}/{SegmentKind.ReportParagraph}/{first + i}",
                Kind = SegmentKind.ReportParagraph,
                Text = p.Text,
                Source = new SourceLocation
                {
                    File = fileName, Section = p.Section, CharStart = p.CharStart + offset, CharEnd = p.CharEnd + offset,
                    Page = document?.PageAt(deid?.OriginalOffset(p.CharStart) ?? p.CharStart), // scanned reports only; typed reports keep Page null (same content hash as before)
                },
            });
        }
    }

    /// <summary>Dictations: transcribes and appends one dictation_segment per transcript segment (numbered after any earlier ones).</summary>
    void AddDictation(StudyRecord study, string path, StudyTextDeidentification? phi)
    {
        var transcript = Transcribe(study, path);
        if (phi != null) transcript = phi.Apply(transcript); // text de-identification, times kept
        var n = NextIndex(study, SegmentKind.DictationSegment);
        foreach (var seg in transcript.Segments)
        {
            var text = seg.Text.Trim();
            if (text.Length == 0) continue;
            study.Segments.Add(new SegmentRecord
            {
                SegmentId = $"{study.StudyId}/{SegmentKind.DictationSegment}/{n++}",
                Kind = SegmentKind.DictationSegment,
                Text = text,
                Source = new SourceLocation { File = Path.GetFileName(path), TimeStart = seg.Start, TimeEnd = seg.End },
            });
        }
    }

    void AddImage(StudyRecord study, string path)
    {
        var bytes = ReadBinary(path, options.MaxImageBytes);
        var mime = ImageMime(bytes) ?? throw new IngestFileException(path, $"{path}: not a PNG or JPEG image");
        var blob = blobs.Put(bytes);
        if (study.DicomImage == null) { study.DicomImage = blob; study.DicomMime = mime; }
        study.Segments.Add(new SegmentRecord
        {
            SegmentId = $"{study.StudyId}/{SegmentKind.ImageSlice}/{NextIndex(study, SegmentKind.ImageSlice)}",
            Kind = SegmentKind.ImageSlice, Blob = blob, BlobMime = mime,
            Source = new SourceLocation { File = Path.GetFileName(path), Frame = 0 },
        });
    }

    /// <summary>The next free number for "STUDY/KIND/N" segment ids.</summary>
    static int NextIndex(StudyRecord study, string kind)
    {
        var n = study.Segments.Count(g => g.Kind == kind);
        var ids = study.Segments.Select(g => g.SegmentId).ToHashSet(StringComparer.Ordinal);
        while (ids.Contains($"{study.StudyId}/{kind}/{n}")) n++;
        return n;
    }

    /// <summary>Sparse terms over the report and the dictations (report first), as BM25 sees the study.</summary>
    /// <summary>
    /// A manifest's exam_date moved by the patient's date shift (the one DICOM, FHIR and report text get), so a study's
    /// date and its patient's events stay in one time frame and no real date is stored. Off only by option.
    /// </summary>
    string? ShiftedExamDate(StudyInput input)
    {
        if (input.ExamDate == null || input.ExamDateShifted || !options.ShiftManifestDates) return input.ExamDate;
        if (!DateOnly.TryParse(input.ExamDate, System.Globalization.CultureInfo.InvariantCulture, out var date))
            throw new InvalidDataException($"exam_date '{input.ExamDate}' is not a date");
        var days = Casebook.Extract.Dicom.Deid.DateShift.ForPatient(pseudonym, input.Issuer, input.PatientId).Days;
        return date.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }

    static void UpdateSparseTerms(StudyRecord study)
    {
        var dictation = string.Join(" ", study.Segments.Where(g => g.Kind == SegmentKind.DictationSegment && g.Text != null).Select(g => g.Text!.Trim()));
        var text = dictation.Length == 0 ? study.ReportText : study.ReportText == null ? dictation : study.ReportText + "\n\n" + dictation;
        if (text != null) study.SparseTerms = SparseTerms.Compute(text);
    }

    /// <summary>Metadata key listing what was attached to a study after it was first built (file, kind, sha256).</summary>
    public const string AttachmentsField = "attachments";

    /// <summary>
    /// Linking: adds attached reports, dictations and images to a study read back from the database (its images, vectors and
    /// earlier segments are kept). A file whose bytes the study already holds is skipped, so re-running an ingest changes
    /// nothing. Returns whether anything was added; a file that cannot be read is reported and the others still attach.
    /// </summary>
    public bool Attach(StudyRecord study, IEnumerable<StudyAttachment> attachments, List<IngestError> errors)
    {
        var attached = study.Metadata[AttachmentsField] as JsonArray ?? new JsonArray();
        var known = attached.OfType<JsonObject>().Select(o => o["sha256"]?.GetValue<string>()).Where(h => h != null)
            .Concat([study.ReportPdf?.Sha256, study.DictationAudio?.Sha256]).Concat(study.Segments.Select(g => g.Blob?.Sha256))
            .Where(h => h != null).ToHashSet(StringComparer.Ordinal);
        var sources = study.Metadata["source_files"] as JsonArray ?? new JsonArray();
        var changed = false;
        foreach (var a in attachments)
        {
            // Text de-identification: with the row's patient the dates shift as the patient's other records do; without one,
            // dates become [DATE] tags (no shift is known).
            var phi = options.TextDeidentification == null ? null
                : a.PatientId != null ? StudyTextDeidentification.For(options.TextDeidentification, pseudonym, a.Issuer, a.PatientId)
                : new StudyTextDeidentification(new TextDeidentifier(PhiDetector.Default, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), null, options.TextDeidentification));
            try
            {
                if (!File.Exists(a.File)) throw new IngestFileException(a.File, $"{a.File}: file not found");
                var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(a.File)));
                if (!known.Add(sha)) continue;
                switch (a.Kind)
                {
                    case AttachmentKind.Report:
                        var document = IsDocumentReport(a.File) ? ExtractDocument(study, a.File) : null;
                        AddReport(study, document?.FullText ?? ReadReport(a.File), document, phi, Path.GetFileName(a.File));
                        break;
                    case AttachmentKind.Dictation: AddDictation(study, a.File, phi); break;
                    case AttachmentKind.Image: AddImage(study, a.File); break;
                }
                attached.Add(new JsonObject { ["file"] = Path.GetFileName(a.File), ["kind"] = a.Kind.ToString().ToLowerInvariant(), ["sha256"] = sha });
                sources.Add(Path.GetFileName(a.File));
                changed = true;
            }
            catch (IngestFileException e) { errors.Add(new IngestError(e.File, e.Message)); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                errors.Add(new IngestError(a.File, e.Message));
            }
        }
        if (!changed) return false;
        study.Metadata[AttachmentsField] = attached.DeepClone();
        study.Metadata["source_files"] = sources.DeepClone();
        UpdateSparseTerms(study);
        Casebook.Extract.Clinical.StudyAnnotation.Annotate(study); // attached text gets the same clinical annotation
        return true;
    }

    /// <summary>DICOM SOP class of an Encapsulated PDF (PS3.4 Annex B.5; the document sits in (0042,0011), PS3.3 A.45).</summary>
    public const string EncapsulatedPdfSopClass = "1.2.840.10008.5.1.4.1.1.104.1";
    static readonly Casebook.Extract.Dicom.DicomTag EncapsulatedDocument = new(0x00420011), AccessionNumber = new(0x00080050);

    /// <summary>
    /// Linking, DICOM side: the first Encapsulated PDF of the study becomes its report_pdf (text layer or OCR; appended when
    /// the row gave a report too) and the study's AccessionNumber is kept as a keyed hash (<see cref="StudyLinker.AccessionKeyField"/>).
    /// Returns the series without the PDF instances, for the slicer.
    /// </summary>
    IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> AddDicomReports(StudyRecord study, string studyId, IReadOnlyList<Casebook.Extract.Dicom.DicomSeries> series, JsonArray sources, StudyTextDeidentification? phi)
    {
        var instances = series.SelectMany(s => s.Instances).ToList();
        // AccessionNumber is a study attribute: one header per series is enough (not one per slice).
        var accession = series.Where(s => s.Instances.Count > 0).Select(s => ReadDicomAccession(s.Instances[0].Source, options.Dicom.MaxInstanceBytes)).FirstOrDefault(a => a != null);
        if (accession != null) study.Metadata[StudyLinker.AccessionKeyField] = StudyLinker.AccessionKey(pseudonym, accession);
        var pdfs = instances.Where(i => i.SOPClassUID?.Trim() == EncapsulatedPdfSopClass).ToList();
        if (pdfs.Count == 0) return series;
        var pdf = pdfs[0];
        var tmp = Path.Combine(Path.GetTempPath(), $"casebook-{Guid.NewGuid():N}.pdf");
        try
        {
            byte[] bytes;
            try
            {
                using var f = Casebook.Extract.Dicom.DicomFile.Open(Dicom.DicomDiscovery.ReadBytes(pdf.Source, options.Documents.MaxFileBytes));
                var value = f.Dataset.Find(EncapsulatedDocument)?.RawValue ?? throw new InvalidDataException("no Encapsulated Document (0042,0011)");
                // PS3.3 C.24.2: the value is padded to even length with one NUL after %%EOF; PDF readers ignore trailing bytes.
                bytes = value.ToArray();
            }
            catch (Exception e) when (e is Casebook.Extract.Dicom.DicomParseException or InvalidDataException or IOException)
            {
                throw new IngestFileException(pdf.Source, $"{pdf.Source}: Encapsulated PDF could not be read: {e.Message}", e);
            }
            File.WriteAllBytes(tmp, bytes);
            var document = ExtractDocument(study, tmp);
            AddReport(study, document.FullText, document, phi, Path.GetFileName(pdf.Source));
            sources.Add(Path.GetFileName(pdf.Source));
            if (pdfs.Count > 1) Errors.Add(new IngestError(pdfs[1].Source, $"study '{studyId}' holds {pdfs.Count} Encapsulated PDFs; only the first is its report"));
        }
        finally { File.Delete(tmp); }
        var kept = series.Select(s => s with { Instances = s.Instances.Where(i => !pdfs.Contains(i)).ToList() }).Where(s => s.Instances.Count > 0).ToList();
        return kept;
    }

    /// <summary>AccessionNumber (0008,0050) of a DICOM instance, or null when absent or unreadable.</summary>
    public static string? ReadDicomAccession(string source, long maxBytes)
    {
        try
        {
            using var f = Dicom.DicomDiscovery.OpenHeader(source, maxBytes);
            return f.Dataset.GetString(AccessionNumber)?.Trim() is { Length: > 0 } a ? a : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or Casebook.Extract.Dicom.DicomParseException or UnauthorizedAccessException) { return null; }
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
    /// <summary>
    /// Dictations with PocketSphinx: null = the general English LM alone; "auto" = a trigram LM built from the database's
    /// own report text (live studies plus this ingest's typed reports), interpolated with the general one (cached under
    /// the database directory, rebuilt when the text changes); any other value = the path of an ARPA model to interpolate.
    /// </summary>
    public string? DictationLanguageModel { get; set; }
    public const string AutoLanguageModel = "auto";

    /// <summary>
    /// Linking: resolvers for study references the built-in rules (study_id, accession, file and folder names) do not
    /// know, asked in order (extension point for FHIR ImagingStudy/DiagnosticReport references).
    /// </summary>
    public List<IStudyReferenceResolver> StudyResolvers { get; } = new();
    /// <summary>Text de-identification of report, OCR and transcript text before it is stored (Extract/Clinical/Phi); null = off.</summary>
    public Casebook.Extract.Clinical.Phi.TextDeidOptions? TextDeidentification { get; set; } = new();
    /// <summary>FHIR ingest: patient issuer and the timeline windows (Ingest/Fhir, Timeline/).</summary>
    public Fhir.FhirIngestOptions Fhir { get; set; } = new();
    /// <summary>Shift manifest exam dates by the patient's date shift (default). False stores them as given, for data already de-identified.</summary>
    public bool ShiftManifestDates { get; set; } = true;
}

/// <summary>Scanned reports and dictations: a document or recording that cannot be read; <see cref="File"/> is the file at fault.</summary>
public sealed class IngestFileException(string file, string message, Exception? inner = null) : IOException(message, inner)
{
    public string File { get; } = file;
}
