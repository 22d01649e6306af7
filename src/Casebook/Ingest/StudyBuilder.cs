using System.Text;
using System.Text.Json.Nodes;
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
public sealed class StudyBuilder(BlobStore blobs, PatientPseudonym pseudonym, IngestOptions options)
{
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
            study.ReportText = input.ReportText ?? ReadReport(input.ReportPath!);
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
                    Source = new SourceLocation { File = input.ReportPath == null ? null : Path.GetFileName(input.ReportPath), Section = p.Section, CharStart = p.CharStart, CharEnd = p.CharEnd },
                });
            }
            study.SparseTerms = SparseTerms.Compute(study.ReportText);
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
}
