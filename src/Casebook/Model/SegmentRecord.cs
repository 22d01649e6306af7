namespace Casebook.Model;

/// <summary>Kinds of segment; the string form is what storage, JSON output and filters use.</summary>
public static class SegmentKind
{
    public const string ImageSlice = "image_slice";
    public const string ReportParagraph = "report_paragraph";
    public const string DictationSegment = "dictation_segment";
    public const string TimelineEvent = "timeline_event";
    /// <summary>A clinician-drawn region of a slice (Validation/): its label as text, its crop's image vector.</summary>
    public const string ImageRegion = "image_region";
    public static readonly IReadOnlyList<string> All = [ImageSlice, ReportParagraph, DictationSegment, TimelineEvent, ImageRegion];
}

/// <summary>
/// A searchable piece of a study: an image slice, a report paragraph, a dictation segment or a timeline event.
/// Search ranks segments and answers with their studies.
/// </summary>
public sealed class SegmentRecord
{
    /// <summary>Stable id, e.g. "S1/report_paragraph/3".</summary>
    public required string SegmentId { get; init; }
    public required string Kind { get; init; }
    public string? Text { get; set; }
    public SourceLocation Source { get; set; } = new();
    /// <summary>The blob this segment shows (an image slice's instance), if any.</summary>
    public BlobRef? Blob { get; set; }
    public string? BlobMime { get; set; }
    public float[]? TextEmbedding { get; set; }
    public string? TextModel { get; set; }
    public float[]? ImageEmbedding { get; set; }
    public string? ImageModel { get; set; }
}

/// <summary>Where a segment came from: file, page, frame, character span or time span.</summary>
public sealed class SourceLocation
{
    public string? File { get; set; }
    public string? Section { get; set; }
    public int? Page { get; set; }
    public int? Frame { get; set; }
    public int? CharStart { get; set; }
    public int? CharEnd { get; set; }
    public double? TimeStart { get; set; }
    public double? TimeEnd { get; set; }
    /// <summary>
    /// Image slices: patient-space position in mm (ImagePositionPatient of the frame, PS3.3 C.7.6.2.1.1; slide coordinates
    /// for whole-slide tiles). Omitted from JSON when null so that older segments keep their content hash.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double[]? Position { get; set; }
}
