using System.Text.Json.Nodes;
using Casebook.Export;
using DuckDB.NET.Data;
using Xunit;

namespace Casebook.Tests.Export;

/// <summary>Parquet export read back by DuckDB, an independent reader.</summary>
public class ParquetExportTests : IDisposable
{
    readonly TempDirectory _temp = new();

    string NewDir() => Directory.CreateDirectory(Path.Combine(_temp.Path, Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() => _temp.Dispose();

    static DuckDBConnection OpenDuckDb()
    {
        var conn = new DuckDBConnection("Data Source=:memory:");
        conn.Open();
        return conn;
    }

    static List<object?[]> Query(DuckDBConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    static object? Scalar(DuckDBConnection conn, string sql) => Query(conn, sql).Single()[0];

    (string Path, ExportResult Result, ExportSamples Samples) ExportSamplesTo(ExportOptions? options = null)
    {
        var samples = new ExportSamples();
        string path = Path.Combine(NewDir(), "clinical_retrieval.parquet");
        var result = TableExporter.Export(samples.All(), samples.ReadBlob, "parquet", path, options);
        return (path, result, samples);
    }

    [Fact]
    public void Parquet_columns_are_the_exact_table_schema()
    {
        var (path, _, _) = ExportSamplesTo();
        using var db = OpenDuckDb();
        var described = Query(db, $"DESCRIBE SELECT * FROM read_parquet('{path}')")
            .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        var expected = ClinicalRetrievalSchema.Columns.Select(c => (c.Name, c.DuckDbType)).ToList();
        Assert.Equal(expected, described);
    }

    [Fact]
    public void Parquet_round_trips_scalars_dates_and_unicode()
    {
        var (path, result, _) = ExportSamplesTo();
        Assert.Equal(3, result.Rows);
        using var db = OpenDuckDb();
        var rows = Query(db, $"SELECT study_id, patient_pseudo_id, modality, exam_date, dicom_mime, report_text, dictation_audio_mime FROM read_parquet('{path}') ORDER BY study_id");
        Assert.Equal(3, rows.Count);

        var s1 = rows[0];
        Assert.Equal("S1", s1[0]);
        Assert.Equal("P-ü-001", s1[1]);
        Assert.Equal("CT", s1[2]);
        Assert.Equal(new DateOnly(2024, 2, 29), ToDateOnly(s1[3]));
        Assert.Equal("application/dicom", s1[4]);
        Assert.Equal(ExportSamples.UnicodeReport, s1[5]);
        Assert.Equal("audio/wav", s1[6]);

        var empty = rows[1];
        Assert.Equal("S2-empty", empty[0]);
        Assert.Equal("", empty[1]);
        Assert.Null(empty[2]);
        Assert.Null(empty[3]);
        Assert.Null(empty[4]);
        Assert.Null(empty[5]);

        var s3 = rows[2];
        Assert.Equal(new DateOnly(1999, 12, 31), ToDateOnly(s3[3]));
        Assert.Equal("", s3[5]);
        Assert.Equal(1999L, Convert.ToInt64(Scalar(db, $"SELECT year(exam_date) FROM read_parquet('{path}') WHERE study_id = 'S3'")));
    }

    [Fact]
    public void Parquet_round_trips_blob_bytes_exactly()
    {
        var (path, result, samples) = ExportSamplesTo();
        var s1 = samples.Full();
        using var db = OpenDuckDb();
        var row = Query(db, $"SELECT octet_length(dicom_image), hex(dicom_image), hex(report_pdf), hex(dictation_audio) FROM read_parquet('{path}') WHERE study_id = 'S1'").Single();
        Assert.Equal(1000L, Convert.ToInt64(row[0]));
        Assert.Equal(Convert.ToHexString(samples.Blobs[s1.DicomImage!.Sha256]), row[1]);
        Assert.Equal(Convert.ToHexString(samples.Blobs[s1.ReportPdf!.Sha256]), row[2]);
        Assert.Equal(Convert.ToHexString(samples.Blobs[s1.DictationAudio!.Sha256]), row[3]);
        Assert.Equal(1000 + 777 + 4096 + 10, result.BlobBytes);

        var partial = Query(db, $"SELECT dicom_image IS NULL, report_pdf IS NULL, octet_length(dictation_audio) FROM read_parquet('{path}') WHERE study_id = 'S3'").Single();
        Assert.Equal(true, partial[0]);
        Assert.Equal(true, partial[1]);
        Assert.Equal(10L, Convert.ToInt64(partial[2]));
    }

    [Fact]
    public void Parquet_round_trips_embeddings_sparse_terms_and_codes()
    {
        var (path, _, _) = ExportSamplesTo();
        using var db = OpenDuckDb();
        var row = Query(db, $"""
            SELECT len(image_embeddings), len(image_embeddings[1]), image_embeddings[1][2], image_embeddings[2][3],
                   len(text_embeddings), text_embeddings[2][4], text_embeddings[1][4],
                   sparse_terms['effusion'], sparse_terms['épanchement'], cardinality(sparse_terms),
                   clinical_codes, len(clinical_codes)
            FROM read_parquet('{path}') WHERE study_id = 'S1'
            """).Single();
        Assert.Equal(2L, Convert.ToInt64(row[0]));
        Assert.Equal(3L, Convert.ToInt64(row[1]));
        Assert.Equal(-0.2f, Convert.ToSingle(row[2]));
        Assert.Equal(float.Epsilon, Convert.ToSingle(row[3]));
        Assert.Equal(2L, Convert.ToInt64(row[4]));
        Assert.Equal(float.MaxValue, Convert.ToSingle(row[5]));
        Assert.Equal(1e-7f, Convert.ToSingle(row[6]));
        Assert.Equal(1.5f, Convert.ToSingle(Unwrap(row[7])));
        Assert.Equal(2f, Convert.ToSingle(Unwrap(row[8])));
        Assert.Equal(3L, Convert.ToInt64(row[9]));
        Assert.Equal(new[] { "ICD10:J90", "SNOMED:60046008", "RadLex:RID34539" }, ((System.Collections.IEnumerable)row[10]!).Cast<string>());
        Assert.Equal(3L, Convert.ToInt64(row[11]));

        // Empty lists and maps stay empty (not null), so len() works on every row.
        var empty = Query(db, $"SELECT len(image_embeddings), len(text_embeddings), cardinality(sparse_terms), len(clinical_codes), len(image_regions), len(risk_factors) FROM read_parquet('{path}') WHERE study_id = 'S2-empty'").Single();
        Assert.All(empty, v => Assert.Equal(0L, Convert.ToInt64(v)));

        var partial = Query(db, $"SELECT len(image_embeddings), text_embeddings[1][2], sparse_terms['mass'], clinical_codes[1] FROM read_parquet('{path}') WHERE study_id = 'S3'").Single();
        Assert.Equal(0L, Convert.ToInt64(partial[0]));
        Assert.Equal(0.25f, Convert.ToSingle(partial[1]));
        Assert.Equal(-0.5f, Convert.ToSingle(Unwrap(partial[2])));
        Assert.Equal("", partial[3]);
    }

    [Fact]
    public void Parquet_json_columns_are_queryable_json_text()
    {
        var (path, _, samples) = ExportSamplesTo();
        var s1 = samples.Full();
        using var db = OpenDuckDb();
        var row = Query(db, $"""
            SELECT json_extract_string(metadata, '$.referrer.name'), json_extract(metadata, '$.priority')::INTEGER,
                   json_extract_string(image_regions[1], '$.label'), json_extract(image_regions[1], '$.bbox[2]')::DOUBLE,
                   json_extract_string(timeline_events[2], '$.event'), anatomical_regions[1], json_extract_string(anatomical_regions[2], '$.laterality'),
                   json_extract_string(pathology_findings[1], '$.finding'), json_extract(risk_factors[2], '$.years')::INTEGER,
                   metadata, image_regions, timeline_events, anatomical_regions, pathology_findings, risk_factors
            FROM read_parquet('{path}') WHERE study_id = 'S1'
            """).Single();
        Assert.Equal("Dr. Ünal", row[0]);
        Assert.Equal(2, Convert.ToInt32(row[1]));
        Assert.Equal("nodule", row[2]);
        Assert.Equal(30.5, Convert.ToDouble(row[3]));
        Assert.Equal("Follow-up ⏱", row[4]);
        Assert.Equal("\"chest\"", row[5]); // every list element is a JSON value, strings included
        Assert.Equal("left", row[6]);
        Assert.Equal("pleural effusion", row[7]);
        Assert.Equal(12, Convert.ToInt32(row[8]));

        // Whole-value round trip: the JSON text parses back to the model's nodes.
        Assert.True(JsonNode.DeepEquals(s1.Metadata, JsonNode.Parse((string)row[9]!)));
        AssertJsonList(s1.ImageRegions, row[10]);
        AssertJsonList(s1.TimelineEvents, row[11]);
        AssertJsonList(s1.AnatomicalRegions, row[12]);
        AssertJsonList(s1.PathologyFindings, row[13]);
        AssertJsonList(s1.RiskFactors, row[14]);

        Assert.Equal("{}", Scalar(db, $"SELECT metadata FROM read_parquet('{path}') WHERE study_id = 'S2-empty'"));

        // The arrow operators of docs/export.md work on the VARCHAR columns as written.
        var arrows = Query(db, $"SELECT image_regions[1] ->> 'label', anatomical_regions[1]::JSON ->> '$', metadata ->> '$.site' FROM read_parquet('{path}') WHERE study_id = 'S1'").Single();
        Assert.Equal("nodule", arrows[0]);
        Assert.Equal("chest", arrows[1]);
        Assert.Equal("北京", arrows[2]);
    }

    [Fact]
    public void Parquet_file_metadata_names_the_json_columns()
    {
        var (path, _, _) = ExportSamplesTo();
        using var db = OpenDuckDb();
        var kv = Query(db, $"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{path}')")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Equal(string.Join(",", ClinicalRetrievalSchema.JsonColumns), kv[ClinicalRetrievalSchema.JsonColumnsMetadataKey]);
        Assert.Equal("true", kv[ClinicalRetrievalSchema.BlobsIncludedMetadataKey]);
        Assert.Equal("SNAPPY", Scalar(db, $"SELECT DISTINCT compression FROM parquet_metadata('{path}') WHERE path_in_schema = 'dicom_image'"));
    }

    [Fact]
    public void Parquet_writes_one_row_group_per_batch_and_reports_progress()
    {
        var samples = new ExportSamples();
        var studies = Enumerable.Range(0, 600).Select(i =>
        {
            var s = samples.Partial();
            return new Casebook.Model.StudyRecord { StudyId = $"S{i:D4}", ExamDate = s.ExamDate, DictationAudio = s.DictationAudio, Segments = s.Segments };
        });
        string path = Path.Combine(NewDir(), "big.parquet");
        var progress = new List<ExportProgress>();
        var result = TableExporter.Export(studies, samples.ReadBlob, "parquet", path,
            new ExportOptions { BatchSize = 256, IncludeSegments = true, Progress = progress.Add });

        Assert.Equal(600, result.Rows);
        Assert.Equal(3, result.Batches);
        Assert.Equal(new long[] { 256, 512, 600 }, progress.Select(p => p.RowsWritten));
        using var db = OpenDuckDb();
        Assert.Equal(3L, Convert.ToInt64(Scalar(db, $"SELECT count(DISTINCT row_group_id) FROM parquet_metadata('{path}')")));
        Assert.Equal(600L, Convert.ToInt64(Scalar(db, $"SELECT count(*) FROM read_parquet('{path}')")));
        Assert.Equal(600L, Convert.ToInt64(Scalar(db, $"SELECT count(DISTINCT study_id) FROM read_parquet('{path}')")));
        Assert.Equal(600L, Convert.ToInt64(Scalar(db, $"SELECT count(*) FROM read_parquet('{result.SegmentsPath}')")));
    }

    [Fact]
    public void Parquet_without_blobs_keeps_the_columns_null_and_never_reads_the_blob_store()
    {
        var (path, result, samples) = ExportSamplesTo(new ExportOptions { IncludeBlobs = false });
        Assert.Equal(0, samples.BlobReads);
        Assert.Equal(0, result.BlobBytes);
        using var db = OpenDuckDb();
        Assert.Equal(0L, Convert.ToInt64(Scalar(db, $"SELECT count(*) FROM read_parquet('{path}') WHERE dicom_image IS NOT NULL OR report_pdf IS NOT NULL OR dictation_audio IS NOT NULL")));
        Assert.Equal("application/dicom", Scalar(db, $"SELECT dicom_mime FROM read_parquet('{path}') WHERE study_id = 'S1'"));
        Assert.Equal("false", Scalar(db, $"SELECT decode(value) FROM parquet_kv_metadata('{path}') WHERE decode(key) = '{ClinicalRetrievalSchema.BlobsIncludedMetadataKey}'"));
    }

    [Fact]
    public void Parquet_segments_table_has_its_exact_schema_and_values()
    {
        var (path, result, _) = ExportSamplesTo(new ExportOptions { IncludeSegments = true });
        Assert.Equal(Path.Combine(Path.GetDirectoryName(path)!, "clinical_retrieval_segments.parquet"), result.SegmentsPath);
        Assert.Equal(5, result.SegmentRows);
        using var db = OpenDuckDb();
        var described = Query(db, $"DESCRIBE SELECT * FROM read_parquet('{result.SegmentsPath}')")
            .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.Equal(ClinicalRetrievalSegmentsSchema.Columns.Select(c => (c.Name, c.DuckDbType)).ToList(), described);

        var rows = Query(db, $"""
            SELECT segment_id, study_id, kind, text, source_file, source_section, source_page, source_frame,
                   source_char_start, source_char_end, source_time_start, source_time_end, blob_sha256, blob_mime,
                   len(text_embedding), text_embedding[3], text_model, len(image_embedding), image_embedding[2], image_model
            FROM read_parquet('{result.SegmentsPath}') ORDER BY segment_id
            """);
        Assert.Equal(new[] { "S1/dictation_segment/0", "S1/image_slice/0", "S1/image_slice/1", "S1/report_paragraph/0", "S3/timeline_event/0" },
            rows.Select(r => (string)r[0]!));
        var dictation = rows[0];
        Assert.Equal("S1", dictation[1]);
        Assert.Equal("dictation_segment", dictation[2]);
        Assert.Equal(1.25, Convert.ToDouble(dictation[10]));
        Assert.Equal(3.5, Convert.ToDouble(dictation[11]));
        Assert.Equal(42f, Convert.ToSingle(dictation[15]));
        Assert.Null(dictation[17]); // no image embedding: null, not empty

        var slice = rows[1];
        Assert.Equal("series1/IM0001.dcm", slice[4]);
        Assert.Equal(0, Convert.ToInt32(slice[7]));
        Assert.Equal(64, ((string)slice[12]!).Length);
        Assert.Equal("application/dicom", slice[13]);
        Assert.Null(slice[14]);
        Assert.Equal(3L, Convert.ToInt64(slice[17]));
        Assert.Equal(-0.2f, Convert.ToSingle(slice[18]));
        Assert.Equal("resnet18", slice[19]);

        var paragraph = rows[3];
        Assert.Equal("Épanchement pleural.", paragraph[3]);
        Assert.Equal("FINDINGS", paragraph[5]);
        Assert.Equal(1, Convert.ToInt32(paragraph[6]));
        Assert.Equal(20, Convert.ToInt32(paragraph[9]));
        Assert.Equal(-3.25f, Convert.ToSingle(paragraph[15]));
        Assert.Equal("all-MiniLM-L6-v2", paragraph[16]);
    }

    [Fact]
    public void Parquet_export_of_no_studies_is_a_valid_empty_table()
    {
        string path = Path.Combine(NewDir(), "empty.parquet");
        var result = TableExporter.Export([], _ => throw new InvalidOperationException(), "parquet", path,
            new ExportOptions { IncludeSegments = true });
        Assert.Equal(0, result.Rows);
        using var db = OpenDuckDb();
        Assert.Equal(0L, Convert.ToInt64(Scalar(db, $"SELECT count(*) FROM read_parquet('{path}')")));
        Assert.Equal(ClinicalRetrievalSchema.Columns.Count, Query(db, $"DESCRIBE SELECT * FROM read_parquet('{path}')").Count);
        Assert.Equal(0L, Convert.ToInt64(Scalar(db, $"SELECT count(*) FROM read_parquet('{result.SegmentsPath}')")));
    }

    static DateOnly ToDateOnly(object? value) => value switch
    {
        DateOnly d => d,
        DateTime dt => DateOnly.FromDateTime(dt),
        _ => DateOnly.Parse(value!.ToString()!),
    };

    /// <summary>Map subscript gives a value in newer DuckDB, a one-element list in older ones.</summary>
    static object? Unwrap(object? value) =>
        value is System.Collections.IList list ? list[0] : value;

    static void AssertJsonList(JsonArray expected, object? actual)
    {
        var texts = ((System.Collections.IEnumerable)actual!).Cast<string>().ToList();
        Assert.Equal(expected.Count, texts.Count);
        for (int i = 0; i < texts.Count; i++)
            Assert.True(JsonNode.DeepEquals(expected[i], JsonNode.Parse(texts[i])), $"element {i}: {texts[i]}");
    }
}
