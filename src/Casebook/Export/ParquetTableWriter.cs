using System.Text.Json.Serialization;
using Parquet;
using Parquet.Serialization;
using Parquet.Serialization.Attributes;

namespace Casebook.Export;

/// <summary>
/// Parquet: one row group per export batch, written through Parquet.Net's class serializer in append mode
/// (each batch adds a row group to the same file). JSON columns are UTF8 strings (Parquet.Net 6 cannot
/// write the JSON logical type); the file's key-value metadata lists them under
/// <see cref="ClinicalRetrievalSchema.JsonColumnsMetadataKey"/>.
/// </summary>
internal sealed class ParquetTableWriter : ITableWriter
{
    readonly FileStream _studyStream;
    readonly FileStream? _segmentStream;
    readonly Dictionary<string, string> _metadata;
    bool _studiesStarted, _segmentsStarted;

    public ParquetTableWriter(string path, string? segmentsPath, bool includeBlobs)
    {
        // Read access too: append mode reads the footer written by the previous batch.
        _studyStream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        if (segmentsPath != null)
            _segmentStream = new FileStream(segmentsPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _metadata = new()
        {
            [ClinicalRetrievalSchema.JsonColumnsMetadataKey] = string.Join(",", ClinicalRetrievalSchema.JsonColumns),
            [ClinicalRetrievalSchema.BlobsIncludedMetadataKey] = includeBlobs ? "true" : "false",
        };
    }

    public void WriteStudies(IReadOnlyList<StudyRow> rows)
    {
        var records = new List<ParquetStudy>(rows.Count);
        foreach (var row in rows) records.Add(ParquetStudy.From(row));
        Append(records, _studyStream, ref _studiesStarted, _metadata);
    }

    public void WriteSegments(IReadOnlyList<SegmentRow> rows)
    {
        if (_segmentStream is null || rows.Count == 0) return;
        var records = new List<ParquetSegment>(rows.Count);
        foreach (var row in rows) records.Add(ParquetSegment.From(row));
        Append(records, _segmentStream, ref _segmentsStarted, null);
    }

    public void Complete()
    {
        // A table with no rows is still a valid file with the full schema.
        if (!_studiesStarted) Append(new List<ParquetStudy>(), _studyStream, ref _studiesStarted, _metadata);
        if (_segmentStream != null && !_segmentsStarted)
            Append(new List<ParquetSegment>(), _segmentStream, ref _segmentsStarted, null);
        _studyStream.Flush();
        _segmentStream?.Flush();
    }

    public void Dispose()
    {
        _studyStream.Dispose();
        _segmentStream?.Dispose();
    }

    static void Append<T>(List<T> records, FileStream stream, ref bool started, Dictionary<string, string>? metadata)
    {
        var options = new ParquetOptions { Append = started, RowGroupSize = Math.Max(records.Count, 1) };
        stream.Seek(0, SeekOrigin.Begin); // append mode finds the footer itself
        ParquetSerializer.SerializeAsync(records, stream, options, metadata).GetAwaiter().GetResult();
        started = true;
    }
}

/// <summary>Row shape handed to the Parquet serializer; property order = column order.</summary>
internal sealed class ParquetStudy
{
    [JsonPropertyName("study_id"), ParquetRequired] public string StudyId { get; set; } = "";
    [JsonPropertyName("patient_pseudo_id")] public string? PatientPseudoId { get; set; }
    [JsonPropertyName("modality")] public string? Modality { get; set; }
    [JsonPropertyName("exam_date")] public DateOnly? ExamDate { get; set; }
    [JsonPropertyName("dicom_image")] public byte[]? DicomImage { get; set; }
    [JsonPropertyName("dicom_mime")] public string? DicomMime { get; set; }
    [JsonPropertyName("report_text")] public string? ReportText { get; set; }
    [JsonPropertyName("report_pdf")] public byte[]? ReportPdf { get; set; }
    [JsonPropertyName("dictation_audio")] public byte[]? DictationAudio { get; set; }
    [JsonPropertyName("dictation_audio_mime")] public string? DictationAudioMime { get; set; }
    [JsonPropertyName("image_regions")] public List<string>? ImageRegions { get; set; }
    [JsonPropertyName("timeline_events")] public List<string>? TimelineEvents { get; set; }
    [JsonPropertyName("image_embeddings")] public List<List<float>>? ImageEmbeddings { get; set; }
    [JsonPropertyName("text_embeddings")] public List<List<float>>? TextEmbeddings { get; set; }
    [JsonPropertyName("sparse_terms")] public Dictionary<string, float>? SparseTerms { get; set; }
    [JsonPropertyName("clinical_codes")] public List<string>? ClinicalCodes { get; set; }
    [JsonPropertyName("metadata")] public string? Metadata { get; set; }
    [JsonPropertyName("anatomical_regions")] public List<string>? AnatomicalRegions { get; set; }
    [JsonPropertyName("pathology_findings")] public List<string>? PathologyFindings { get; set; }
    [JsonPropertyName("risk_factors")] public List<string>? RiskFactors { get; set; }

    public static ParquetStudy From(StudyRow row)
    {
        var s = row.Source;
        return new ParquetStudy
        {
            StudyId = s.StudyId,
            PatientPseudoId = s.PatientPseudoId,
            Modality = s.Modality,
            ExamDate = row.ExamDate,
            DicomImage = row.DicomImage,
            DicomMime = s.DicomMime,
            ReportText = s.ReportText,
            ReportPdf = row.ReportPdf,
            DictationAudio = row.DictationAudio,
            DictationAudioMime = s.DictationAudioMime,
            ImageRegions = row.ImageRegions,
            TimelineEvents = row.TimelineEvents,
            ImageEmbeddings = row.ImageEmbeddings.Select(v => v.ToList()).ToList(),
            TextEmbeddings = row.TextEmbeddings.Select(v => v.ToList()).ToList(),
            SparseTerms = s.SparseTerms,
            ClinicalCodes = s.ClinicalCodes,
            Metadata = row.Metadata,
            AnatomicalRegions = row.AnatomicalRegions,
            PathologyFindings = row.PathologyFindings,
            RiskFactors = row.RiskFactors,
        };
    }
}

/// <summary>Segment row shape handed to the Parquet serializer.</summary>
internal sealed class ParquetSegment
{
    [JsonPropertyName("segment_id"), ParquetRequired] public string SegmentId { get; set; } = "";
    [JsonPropertyName("study_id"), ParquetRequired] public string StudyId { get; set; } = "";
    [JsonPropertyName("kind"), ParquetRequired] public string Kind { get; set; } = "";
    [JsonPropertyName("text")] public string? Text { get; set; }
    [JsonPropertyName("source_file")] public string? SourceFile { get; set; }
    [JsonPropertyName("source_section")] public string? SourceSection { get; set; }
    [JsonPropertyName("source_page")] public int? SourcePage { get; set; }
    [JsonPropertyName("source_frame")] public int? SourceFrame { get; set; }
    [JsonPropertyName("source_char_start")] public int? SourceCharStart { get; set; }
    [JsonPropertyName("source_char_end")] public int? SourceCharEnd { get; set; }
    [JsonPropertyName("source_time_start")] public double? SourceTimeStart { get; set; }
    [JsonPropertyName("source_time_end")] public double? SourceTimeEnd { get; set; }
    [JsonPropertyName("blob_sha256")] public string? BlobSha256 { get; set; }
    [JsonPropertyName("blob_mime")] public string? BlobMime { get; set; }
    [JsonPropertyName("text_embedding")] public List<float>? TextEmbedding { get; set; }
    [JsonPropertyName("text_model")] public string? TextModel { get; set; }
    [JsonPropertyName("image_embedding")] public List<float>? ImageEmbedding { get; set; }
    [JsonPropertyName("image_model")] public string? ImageModel { get; set; }

    public static ParquetSegment From(SegmentRow row)
    {
        var seg = row.Segment;
        return new ParquetSegment
        {
            SegmentId = seg.SegmentId,
            StudyId = row.StudyId,
            Kind = seg.Kind,
            Text = seg.Text,
            SourceFile = seg.Source.File,
            SourceSection = seg.Source.Section,
            SourcePage = seg.Source.Page,
            SourceFrame = seg.Source.Frame,
            SourceCharStart = seg.Source.CharStart,
            SourceCharEnd = seg.Source.CharEnd,
            SourceTimeStart = seg.Source.TimeStart,
            SourceTimeEnd = seg.Source.TimeEnd,
            BlobSha256 = seg.Blob?.Sha256,
            BlobMime = seg.BlobMime,
            TextEmbedding = seg.TextEmbedding?.ToList(),
            TextModel = seg.TextModel,
            ImageEmbedding = seg.ImageEmbedding?.ToList(),
            ImageModel = seg.ImageModel,
        };
    }
}
