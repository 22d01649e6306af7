using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Export;

/// <summary>
/// A <see cref="StudyRecord"/> made ready for writing: blobs read, date parsed, JSON nodes turned into
/// JSON text. All format writers take this one shape, so they cannot drift apart.
/// </summary>
internal sealed class StudyRow
{
    public required StudyRecord Source { get; init; }
    public required DateOnly? ExamDate { get; init; }
    public byte[]? DicomImage { get; init; }
    public byte[]? ReportPdf { get; init; }
    public byte[]? DictationAudio { get; init; }
    public required List<string> ImageRegions { get; init; }
    public required List<string> TimelineEvents { get; init; }
    public required List<float[]> ImageEmbeddings { get; init; }
    public required List<float[]> TextEmbeddings { get; init; }
    public required string Metadata { get; init; }
    public required List<string> AnatomicalRegions { get; init; }
    public required List<string> PathologyFindings { get; init; }
    public required List<string> RiskFactors { get; init; }

    public long BlobBytes => (DicomImage?.LongLength ?? 0) + (ReportPdf?.LongLength ?? 0) + (DictationAudio?.LongLength ?? 0);

    public static StudyRow From(StudyRecord s, Func<BlobRef, byte[]> readBlob, bool includeBlobs) => new()
    {
        Source = s,
        ExamDate = ParseExamDate(s),
        DicomImage = includeBlobs ? ReadBlob(s.DicomImage, readBlob, s.StudyId, "dicom_image") : null,
        ReportPdf = includeBlobs ? ReadBlob(s.ReportPdf, readBlob, s.StudyId, "report_pdf") : null,
        DictationAudio = includeBlobs ? ReadBlob(s.DictationAudio, readBlob, s.StudyId, "dictation_audio") : null,
        ImageRegions = JsonElements(s.ImageRegions),
        TimelineEvents = JsonElements(s.TimelineEvents),
        ImageEmbeddings = s.ImageEmbeddings.ToList(),
        TextEmbeddings = s.TextEmbeddings.ToList(),
        Metadata = JsonText(s.Metadata),
        AnatomicalRegions = JsonElements(s.AnatomicalRegions),
        PathologyFindings = JsonElements(s.PathologyFindings),
        RiskFactors = JsonElements(s.RiskFactors),
    };

    static byte[]? ReadBlob(BlobRef? blob, Func<BlobRef, byte[]> readBlob, string studyId, string column)
    {
        if (blob is null) return null;
        byte[] bytes = readBlob(blob)
            ?? throw new InvalidDataException($"Blob store returned no bytes for {column} of study {studyId} ({blob.Sha256}).");
        if (bytes.LongLength != blob.Length)
            throw new InvalidDataException(
                $"Blob {blob.Sha256} ({column} of study {studyId}) has {bytes.LongLength} bytes; its reference says {blob.Length}.");
        return bytes;
    }

    static DateOnly? ParseExamDate(StudyRecord s)
    {
        if (string.IsNullOrEmpty(s.ExamDate)) return null;
        if (DateOnly.TryParseExact(s.ExamDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            return d;
        // A bad date is a data error upstream; exporting it as null would hide it.
        throw new InvalidDataException($"Study {s.StudyId} has exam_date '{s.ExamDate}', which is not an ISO yyyy-MM-dd date.");
    }

    /// <summary>Compact JSON text, non-ASCII kept as is (exports are UTF-8 throughout).</summary>
    internal static readonly JsonSerializerOptions CompactJson = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    static string JsonText(JsonNode? node) => node is null ? "null" : node.ToJsonString(CompactJson);

    static List<string> JsonElements(JsonArray array)
    {
        var list = new List<string>(array.Count);
        foreach (var item in array) list.Add(JsonText(item));
        return list;
    }
}

/// <summary>A <see cref="SegmentRecord"/> with the id of the study it belongs to.</summary>
internal readonly record struct SegmentRow(string StudyId, SegmentRecord Segment);
