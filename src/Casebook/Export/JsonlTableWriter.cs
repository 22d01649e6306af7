using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;

namespace Casebook.Export;

/// <summary>
/// JSON Lines: one UTF-8 JSON object per line, keys = column names of <see cref="ClinicalRetrievalSchema"/>
/// in column order. Blobs are base64 strings (null when absent or not included), exam_date is the
/// "yyyy-MM-dd" string, JSON columns are written as real JSON (not quoted text), embeddings as arrays
/// of numbers, sparse_terms as an object.
/// </summary>
internal sealed class JsonlTableWriter : ITableWriter
{
    static readonly byte[] Newline = "\n"u8.ToArray();
    static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    readonly FileStream _studies;
    readonly FileStream? _segments;
    readonly Utf8JsonWriter _studyJson;
    readonly Utf8JsonWriter? _segmentJson;

    public JsonlTableWriter(string path, string? segmentsPath)
    {
        _studies = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _studyJson = new Utf8JsonWriter(_studies, WriterOptions);
        if (segmentsPath != null)
        {
            _segments = new FileStream(segmentsPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            _segmentJson = new Utf8JsonWriter(_segments, WriterOptions);
        }
    }

    public void WriteStudies(IReadOnlyList<StudyRow> rows)
    {
        var w = _studyJson;
        foreach (var row in rows)
        {
            var s = row.Source;
            w.WriteStartObject();
            w.WriteString("study_id", s.StudyId);
            w.WriteString("patient_pseudo_id", s.PatientPseudoId);
            w.WriteString("modality", s.Modality);
            if (row.ExamDate is { } d) w.WriteString("exam_date", d.ToString("yyyy-MM-dd")); else w.WriteNull("exam_date");
            WriteBase64(w, "dicom_image", row.DicomImage);
            w.WriteString("dicom_mime", s.DicomMime);
            w.WriteString("report_text", s.ReportText);
            WriteBase64(w, "report_pdf", row.ReportPdf);
            WriteBase64(w, "dictation_audio", row.DictationAudio);
            w.WriteString("dictation_audio_mime", s.DictationAudioMime);
            WriteNode(w, "image_regions", s.ImageRegions);
            WriteNode(w, "timeline_events", s.TimelineEvents);
            WriteVectors(w, "image_embeddings", row.ImageEmbeddings);
            WriteVectors(w, "text_embeddings", row.TextEmbeddings);
            w.WriteStartObject("sparse_terms");
            foreach (var (term, weight) in s.SparseTerms) w.WriteNumber(term, weight);
            w.WriteEndObject();
            w.WriteStartArray("clinical_codes");
            foreach (var code in s.ClinicalCodes) w.WriteStringValue(code);
            w.WriteEndArray();
            WriteNode(w, "metadata", s.Metadata);
            WriteNode(w, "anatomical_regions", s.AnatomicalRegions);
            WriteNode(w, "pathology_findings", s.PathologyFindings);
            WriteNode(w, "risk_factors", s.RiskFactors);
            w.WriteEndObject();
            EndLine(w, _studies);
        }
        w.Flush();
    }

    public void WriteSegments(IReadOnlyList<SegmentRow> rows)
    {
        if (_segmentJson is null || _segments is null) return;
        var w = _segmentJson;
        foreach (var (studyId, seg) in rows)
        {
            w.WriteStartObject();
            w.WriteString("segment_id", seg.SegmentId);
            w.WriteString("study_id", studyId);
            w.WriteString("kind", seg.Kind);
            w.WriteString("text", seg.Text);
            w.WriteString("source_file", seg.Source.File);
            w.WriteString("source_section", seg.Source.Section);
            WriteInt(w, "source_page", seg.Source.Page);
            WriteInt(w, "source_frame", seg.Source.Frame);
            WriteInt(w, "source_char_start", seg.Source.CharStart);
            WriteInt(w, "source_char_end", seg.Source.CharEnd);
            WriteDouble(w, "source_time_start", seg.Source.TimeStart);
            WriteDouble(w, "source_time_end", seg.Source.TimeEnd);
            w.WriteString("blob_sha256", seg.Blob?.Sha256);
            w.WriteString("blob_mime", seg.BlobMime);
            WriteVector(w, "text_embedding", seg.TextEmbedding);
            w.WriteString("text_model", seg.TextModel);
            WriteVector(w, "image_embedding", seg.ImageEmbedding);
            w.WriteString("image_model", seg.ImageModel);
            w.WriteEndObject();
            EndLine(w, _segments);
        }
        w.Flush();
    }

    public void Complete()
    {
        _studyJson.Flush();
        _studies.Flush();
        _segmentJson?.Flush();
        _segments?.Flush();
    }

    public void Dispose()
    {
        _studyJson.Dispose();
        _studies.Dispose();
        _segmentJson?.Dispose();
        _segments?.Dispose();
    }

    /// <summary>Utf8JsonWriter writes one top-level value per Reset; the newline goes straight to the stream.</summary>
    static void EndLine(Utf8JsonWriter w, Stream stream)
    {
        w.Flush();
        stream.Write(Newline);
        w.Reset(stream);
    }

    static void WriteBase64(Utf8JsonWriter w, string name, byte[]? bytes)
    {
        if (bytes is null) w.WriteNull(name); else w.WriteBase64String(name, bytes);
    }

    static void WriteNode(Utf8JsonWriter w, string name, JsonNode? node)
    {
        w.WritePropertyName(name);
        if (node is null) w.WriteNullValue(); else node.WriteTo(w);
    }

    static void WriteVectors(Utf8JsonWriter w, string name, List<float[]> vectors)
    {
        w.WriteStartArray(name);
        foreach (var v in vectors)
        {
            w.WriteStartArray();
            foreach (float x in v) w.WriteNumberValue(x);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    static void WriteVector(Utf8JsonWriter w, string name, float[]? v)
    {
        if (v is null) { w.WriteNull(name); return; }
        w.WriteStartArray(name);
        foreach (float x in v) w.WriteNumberValue(x);
        w.WriteEndArray();
    }

    static void WriteInt(Utf8JsonWriter w, string name, int? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }

    static void WriteDouble(Utf8JsonWriter w, string name, double? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }
}
