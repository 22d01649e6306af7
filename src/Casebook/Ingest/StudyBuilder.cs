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
        for (var i = 0; i < input.ImagePaths.Count; i++)
        {
            var path = input.ImagePaths[i];
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
        if (study.Segments.Count == 0) throw new InvalidDataException("study has neither a report nor images");
        study.Metadata["source_files"] = sources;
        foreach (var (key, value) in input.Extra) Demographics.AddToMetadata(study.Metadata, key, value);
        return study;
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
}
