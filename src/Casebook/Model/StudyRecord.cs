using System.Text.Json.Nodes;

namespace Casebook.Model;

/// <summary>
/// One row of the <c>clinical_retrieval</c> table: a study with its report, key image, dictation,
/// extracted features and (through <see cref="Segments"/>) its searchable pieces.
/// Field names follow the table contract (snake_case in storage and export).
/// </summary>
public sealed class StudyRecord
{
    public required string StudyId { get; init; }
    public string PatientPseudoId { get; set; } = "";
    public string? Modality { get; set; }
    /// <summary>ISO date (yyyy-MM-dd) of the exam, or null when unknown.</summary>
    public string? ExamDate { get; set; }
    public string? ReportText { get; set; }

    /// <summary>Key instance (shown first). Bytes are loaded lazily from the blob store.</summary>
    public BlobRef? DicomImage { get; set; }
    public string? DicomMime { get; set; }
    public BlobRef? DictationAudio { get; set; }
    public string? DictationAudioMime { get; set; }
    public BlobRef? ReportPdf { get; set; }

    public JsonArray ImageRegions { get; set; } = new();
    /// <summary>One list of timeline events (issue text also calls it temporal_events).</summary>
    public JsonArray TimelineEvents { get; set; } = new();
    public Dictionary<string, float> SparseTerms { get; set; } = new();
    public List<string> ClinicalCodes { get; set; } = new();
    public JsonObject Metadata { get; set; } = new();
    public JsonArray AnatomicalRegions { get; set; } = new();
    public JsonArray PathologyFindings { get; set; } = new();
    public JsonArray RiskFactors { get; set; } = new();

    public List<SegmentRecord> Segments { get; set; } = new();

    /// <summary>text_embeddings: the text vectors of this study's segments, in segment order.</summary>
    public IEnumerable<float[]> TextEmbeddings => Segments.Where(s => s.TextEmbedding != null).Select(s => s.TextEmbedding!);
    /// <summary>image_embeddings: the image vectors of this study's slices, in segment order.</summary>
    public IEnumerable<float[]> ImageEmbeddings => Segments.Where(s => s.ImageEmbedding != null).Select(s => s.ImageEmbedding!);
}

/// <summary>A content-addressed binary (SHA-256 hex) plus its size; bytes live in the blob store.</summary>
public sealed record BlobRef(string Sha256, long Length);
