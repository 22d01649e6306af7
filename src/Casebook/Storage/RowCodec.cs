using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Model;
using Microsoft.Data.Sqlite;

namespace Casebook.Storage;

/// <summary>Maps <see cref="StudyRecord"/>/<see cref="SegmentRecord"/> to and from their SQLite columns.</summary>
internal static class RowCodec
{
    public static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static byte[]? VectorToBytes(float[]? v) => v == null ? null : MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    public static float[]? BytesToVector(object? value)
    {
        if (value is not byte[] b || b.Length == 0) return null;
        var v = new float[b.Length / 4];
        MemoryMarshal.Cast<byte, float>(b.AsSpan()).CopyTo(v);
        return v;
    }

    static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    static BlobRef? Blob(SqliteDataReader r, int shaCol, int lenCol) => r.IsDBNull(shaCol) ? null : new BlobRef(r.GetString(shaCol), r.GetInt64(lenCol));

    /// <summary>Reads a study from columns in <see cref="Schema.StudyColumns"/> order; returns it with its row id.</summary>
    public static (long RowId, StudyRecord Study, string ContentHash) ReadStudy(SqliteDataReader r)
    {
        var study = new StudyRecord
        {
            StudyId = r.GetString(1),
            PatientPseudoId = r.GetString(2),
            Modality = Str(r, 3),
            ExamDate = Str(r, 4),
            ReportText = Str(r, 5),
            DicomImage = Blob(r, 6, 7),
            DicomMime = Str(r, 8),
            DictationAudio = Blob(r, 9, 10),
            DictationAudioMime = Str(r, 11),
            ReportPdf = Blob(r, 12, 13),
            ImageRegions = JsonNode.Parse(r.GetString(14))!.AsArray(),
            TimelineEvents = JsonNode.Parse(r.GetString(15))!.AsArray(),
            SparseTerms = JsonSerializer.Deserialize<Dictionary<string, float>>(r.GetString(16)) ?? new(),
            ClinicalCodes = JsonSerializer.Deserialize<List<string>>(r.GetString(17)) ?? new(),
            Metadata = JsonNode.Parse(r.GetString(18))!.AsObject(),
            AnatomicalRegions = JsonNode.Parse(r.GetString(19))!.AsArray(),
            PathologyFindings = JsonNode.Parse(r.GetString(20))!.AsArray(),
            RiskFactors = JsonNode.Parse(r.GetString(21))!.AsArray(),
        };
        return (r.GetInt64(0), study, r.GetString(22));
    }

    /// <summary>Reads a segment from columns in <see cref="Schema.SegmentColumns"/> order.</summary>
    public static (long RowId, long StudyRowId, SegmentRecord Segment) ReadSegment(SqliteDataReader r, bool withVectors = true)
    {
        var seg = new SegmentRecord
        {
            SegmentId = r.GetString(2),
            Kind = r.GetString(3),
            Text = Str(r, 4),
            Source = JsonSerializer.Deserialize<SourceLocation>(r.GetString(5), Json) ?? new(),
            Blob = Blob(r, 6, 7),
            BlobMime = Str(r, 8),
            TextEmbedding = withVectors ? BytesToVector(r.IsDBNull(9) ? null : r.GetValue(9)) : null,
            TextModel = Str(r, 10),
            ImageEmbedding = withVectors ? BytesToVector(r.IsDBNull(11) ? null : r.GetValue(11)) : null,
            ImageModel = Str(r, 12),
        };
        return (r.GetInt64(0), r.GetInt64(1), seg);
    }

    public static long InsertStudy(SqliteConnection c, SqliteTransaction tx, StudyRecord s, long version, string contentHash)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO studies(study_id, v_from, v_to, content_hash, patient_pseudo_id, modality, exam_date, report_text,
                dicom_image, dicom_image_len, dicom_mime, dictation_audio, dictation_audio_len, dictation_audio_mime,
                report_pdf, report_pdf_len, image_regions, timeline_events, sparse_terms, clinical_codes, metadata,
                anatomical_regions, pathology_findings, risk_factors)
            VALUES (@study_id, @v, NULL, @hash, @pid, @modality, @exam_date, @report,
                @dicom, @dicom_len, @dicom_mime, @audio, @audio_len, @audio_mime,
                @pdf, @pdf_len, @regions, @timeline, @sparse, @codes, @meta, @anat, @path, @risk)
            RETURNING row_id
            """;
        var p = cmd.Parameters;
        p.AddWithValue("@study_id", s.StudyId);
        p.AddWithValue("@v", version);
        p.AddWithValue("@hash", contentHash);
        p.AddWithValue("@pid", s.PatientPseudoId);
        p.AddWithValue("@modality", (object?)s.Modality ?? DBNull.Value);
        p.AddWithValue("@exam_date", (object?)s.ExamDate ?? DBNull.Value);
        p.AddWithValue("@report", (object?)s.ReportText ?? DBNull.Value);
        AddBlob(p, "@dicom", s.DicomImage);
        p.AddWithValue("@dicom_mime", (object?)s.DicomMime ?? DBNull.Value);
        AddBlob(p, "@audio", s.DictationAudio);
        p.AddWithValue("@audio_mime", (object?)s.DictationAudioMime ?? DBNull.Value);
        AddBlob(p, "@pdf", s.ReportPdf);
        p.AddWithValue("@regions", s.ImageRegions.ToJsonString());
        p.AddWithValue("@timeline", s.TimelineEvents.ToJsonString());
        p.AddWithValue("@sparse", JsonSerializer.Serialize(s.SparseTerms));
        p.AddWithValue("@codes", JsonSerializer.Serialize(s.ClinicalCodes));
        p.AddWithValue("@meta", s.Metadata.ToJsonString());
        p.AddWithValue("@anat", s.AnatomicalRegions.ToJsonString());
        p.AddWithValue("@path", s.PathologyFindings.ToJsonString());
        p.AddWithValue("@risk", s.RiskFactors.ToJsonString());
        var rowId = (long)cmd.ExecuteScalar()!;

        using var seg = c.CreateCommand();
        seg.Transaction = tx;
        seg.CommandText = """
            INSERT INTO segments(study_row_id, study_id, segment_id, ordinal, kind, text, source, blob, blob_len, blob_mime,
                text_vec, text_model, image_vec, image_model)
            VALUES (@srow, @study_id, @segment_id, @ord, @kind, @text, @source, @blob, @blob_len, @blob_mime,
                @tv, @tm, @iv, @im)
            """;
        var sp = seg.Parameters;
        foreach (var name in new[] { "@srow", "@study_id", "@segment_id", "@ord", "@kind", "@text", "@source", "@blob", "@blob_len", "@blob_mime", "@tv", "@tm", "@iv", "@im" })
            sp.Add(new SqliteParameter(name, DBNull.Value));
        seg.Prepare();
        for (var i = 0; i < s.Segments.Count; i++)
        {
            var g = s.Segments[i];
            sp["@srow"].Value = rowId;
            sp["@study_id"].Value = s.StudyId;
            sp["@segment_id"].Value = g.SegmentId;
            sp["@ord"].Value = i;
            sp["@kind"].Value = g.Kind;
            sp["@text"].Value = (object?)g.Text ?? DBNull.Value;
            sp["@source"].Value = JsonSerializer.Serialize(g.Source, Json);
            sp["@blob"].Value = (object?)g.Blob?.Sha256 ?? DBNull.Value;
            sp["@blob_len"].Value = (object?)g.Blob?.Length ?? DBNull.Value;
            sp["@blob_mime"].Value = (object?)g.BlobMime ?? DBNull.Value;
            sp["@tv"].Value = (object?)VectorToBytes(g.TextEmbedding) ?? DBNull.Value;
            sp["@tm"].Value = (object?)g.TextModel ?? DBNull.Value;
            sp["@iv"].Value = (object?)VectorToBytes(g.ImageEmbedding) ?? DBNull.Value;
            sp["@im"].Value = (object?)g.ImageModel ?? DBNull.Value;
            seg.ExecuteNonQuery();
        }
        // Negated findings are indexed as marked tokens, so keyword search does not match reports that deny them.
        var documentText = Casebook.Extract.Clinical.StudyAnnotation.MatchText(s);
        if (documentText.Length > 0)
        {
            using var doc = c.CreateCommand();
            doc.Transaction = tx;
            doc.CommandText = "INSERT INTO studies_fts(rowid, text) VALUES (@r, @t)";
            doc.Parameters.AddWithValue("@r", rowId);
            doc.Parameters.AddWithValue("@t", documentText);
            doc.ExecuteNonQuery();
        }
        return rowId;
    }

    static void AddBlob(SqliteParameterCollection p, string name, BlobRef? blob)
    {
        p.AddWithValue(name, (object?)blob?.Sha256 ?? DBNull.Value);
        p.AddWithValue(name + "_len", (object?)blob?.Length ?? DBNull.Value);
    }
}
