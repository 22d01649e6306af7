using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Casebook.Export;
using Casebook.Model;
using DuckDB.NET.Data;
using Xunit;

namespace Casebook.Tests.Export;

/// <summary>JSON Lines export read back with System.Text.Json, plus the exporter's argument checks.</summary>
public class JsonlExportTests : IDisposable
{
    readonly TempDirectory _temp = new();

    string NewDir() => Directory.CreateDirectory(Path.Combine(_temp.Path, Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() => _temp.Dispose();

    (string Path, ExportResult Result, ExportSamples Samples) ExportSamplesTo(ExportOptions? options = null)
    {
        var samples = new ExportSamples();
        string path = Path.Combine(NewDir(), "clinical_retrieval.jsonl");
        var result = TableExporter.Export(samples.All(), samples.ReadBlob, "jsonl", path, options);
        return (path, result, samples);
    }

    static List<JsonObject> ReadLines(string path)
    {
        string text = File.ReadAllText(path, Encoding.UTF8);
        Assert.EndsWith("\n", text);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    [Fact]
    public void Jsonl_has_one_object_per_line_with_the_exact_column_names_in_order()
    {
        var (path, result, _) = ExportSamplesTo();
        var lines = ReadLines(path);
        Assert.Equal(3, lines.Count);
        Assert.Equal(3, result.Rows);
        foreach (var line in lines)
            Assert.Equal(ClinicalRetrievalSchema.Columns.Select(c => c.Name), line.Select(p => p.Key));
    }

    [Fact]
    public void Jsonl_round_trips_every_field()
    {
        var (path, _, samples) = ExportSamplesTo();
        var s1 = samples.Full();
        var o = ReadLines(path).Single(l => (string?)l["study_id"] == "S1");

        Assert.Equal("P-ü-001", (string?)o["patient_pseudo_id"]);
        Assert.Equal("CT", (string?)o["modality"]);
        Assert.Equal("2024-02-29", (string?)o["exam_date"]);
        Assert.Equal(samples.Blobs[s1.DicomImage!.Sha256], Convert.FromBase64String((string)o["dicom_image"]!));
        Assert.Equal("application/dicom", (string?)o["dicom_mime"]);
        Assert.Equal(ExportSamples.UnicodeReport, (string?)o["report_text"]);
        Assert.Equal(samples.Blobs[s1.ReportPdf!.Sha256], Convert.FromBase64String((string)o["report_pdf"]!));
        Assert.Equal(samples.Blobs[s1.DictationAudio!.Sha256], Convert.FromBase64String((string)o["dictation_audio"]!));
        Assert.Equal("audio/wav", (string?)o["dictation_audio_mime"]);

        // JSON columns are real JSON in JSONL, not quoted text.
        Assert.True(JsonNode.DeepEquals(s1.ImageRegions, o["image_regions"]));
        Assert.True(JsonNode.DeepEquals(s1.TimelineEvents, o["timeline_events"]));
        Assert.True(JsonNode.DeepEquals(s1.Metadata, o["metadata"]));
        Assert.True(JsonNode.DeepEquals(s1.AnatomicalRegions, o["anatomical_regions"]));
        Assert.True(JsonNode.DeepEquals(s1.PathologyFindings, o["pathology_findings"]));
        Assert.True(JsonNode.DeepEquals(s1.RiskFactors, o["risk_factors"]));

        Assert.Equal(s1.ImageEmbeddings.ToList(), o["image_embeddings"]!.AsArray().Select(v => v!.AsArray().Select(x => (float)x!).ToArray()).ToList());
        Assert.Equal(s1.TextEmbeddings.ToList(), o["text_embeddings"]!.AsArray().Select(v => v!.AsArray().Select(x => (float)x!).ToArray()).ToList());
        Assert.Equal(s1.SparseTerms, o["sparse_terms"]!.AsObject().ToDictionary(p => p.Key, p => (float)p.Value!));
        Assert.Equal(s1.ClinicalCodes, o["clinical_codes"]!.AsArray().Select(c => (string)c!));
    }

    [Fact]
    public void Jsonl_is_read_by_duckdb_read_json()
    {
        var (path, _, samples) = ExportSamplesTo();
        var s1 = samples.Full();
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        // sparse_terms is given its map type; left to inference DuckDB would make it a STRUCT of the terms seen.
        cmd.CommandText = $$"""
            SELECT count(*) OVER (), exam_date, hex(from_base64(dicom_image)), report_text, len(image_embeddings),
                   image_embeddings[1][2], sparse_terms['pleural'], json_extract_string(metadata::JSON, '$.referrer.name')
            FROM read_json('{{path}}', format = 'newline_delimited',
                           columns = {study_id: 'VARCHAR', exam_date: 'DATE', dicom_image: 'VARCHAR', report_text: 'VARCHAR',
                                       image_embeddings: 'FLOAT[][]', sparse_terms: 'MAP(VARCHAR, FLOAT)', metadata: 'JSON'})
            WHERE study_id = 'S1'
            """;
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        Assert.Equal(1L, Convert.ToInt64(r.GetValue(0)));
        Assert.Equal("2024-02-29", r.GetValue(1) switch { DateOnly d => d.ToString("yyyy-MM-dd"), DateTime dt => dt.ToString("yyyy-MM-dd"), var v => v.ToString() });
        Assert.Equal(Convert.ToHexString(samples.Blobs[s1.DicomImage!.Sha256]), r.GetString(2));
        Assert.Equal(ExportSamples.UnicodeReport, r.GetString(3));
        Assert.Equal(2L, Convert.ToInt64(r.GetValue(4)));
        Assert.Equal(-0.2f, Convert.ToSingle(r.GetValue(5)));
        Assert.Equal(0.25f, Convert.ToSingle(r.GetValue(6) is System.Collections.IList l ? l[0] : r.GetValue(6)));
        Assert.Equal("Dr. Ünal", r.GetString(7));
    }

    [Fact]
    public void Jsonl_writes_nulls_and_empties_as_null_and_empty()
    {
        var (path, _, _) = ExportSamplesTo();
        var o = ReadLines(path).Single(l => (string?)l["study_id"] == "S2-empty");
        Assert.Equal("", (string?)o["patient_pseudo_id"]);
        foreach (var name in new[] { "modality", "exam_date", "dicom_image", "dicom_mime", "report_text", "report_pdf", "dictation_audio", "dictation_audio_mime" })
        {
            Assert.True(o.ContainsKey(name), name);
            Assert.Null(o[name]);
        }
        foreach (var name in new[] { "image_regions", "timeline_events", "image_embeddings", "text_embeddings", "clinical_codes", "anatomical_regions", "pathology_findings", "risk_factors" })
            Assert.Empty(o[name]!.AsArray());
        Assert.Empty(o["sparse_terms"]!.AsObject());
        Assert.Empty(o["metadata"]!.AsObject());
    }

    [Fact]
    public void Jsonl_without_blobs_writes_null_blobs()
    {
        var (path, _, samples) = ExportSamplesTo(new ExportOptions { IncludeBlobs = false });
        Assert.Equal(0, samples.BlobReads);
        var o = ReadLines(path).Single(l => (string?)l["study_id"] == "S1");
        Assert.Null(o["dicom_image"]);
        Assert.Null(o["report_pdf"]);
        Assert.Null(o["dictation_audio"]);
        Assert.Equal("application/dicom", (string?)o["dicom_mime"]);
    }

    [Fact]
    public void Jsonl_segments_table_round_trips()
    {
        var (_, result, samples) = ExportSamplesTo(new ExportOptions { IncludeSegments = true, SegmentsPath = Path.Combine(NewDir(), "segs.jsonl") });
        Assert.EndsWith("segs.jsonl", result.SegmentsPath);
        var lines = ReadLines(result.SegmentsPath!);
        Assert.Equal(5, lines.Count);
        foreach (var line in lines)
            Assert.Equal(ClinicalRetrievalSegmentsSchema.Columns.Select(c => c.Name), line.Select(p => p.Key));
        var d = lines.Single(l => (string?)l["segment_id"] == "S1/dictation_segment/0");
        Assert.Equal("S1", (string?)d["study_id"]);
        Assert.Equal(1.25, (double)d["source_time_start"]!);
        Assert.Null(d["source_page"]);
        Assert.Equal(samples.Full().Segments[3].TextEmbedding, d["text_embedding"]!.AsArray().Select(x => (float)x!).ToArray());
        Assert.Null(d["image_embedding"]);
    }

    [Fact]
    public void Unknown_format_is_rejected_naming_the_format_and_the_allowed_ones()
    {
        var samples = new ExportSamples();
        var ex = Assert.Throws<ArgumentException>(() =>
            TableExporter.Export(samples.All(), samples.ReadBlob, "csv", Path.Combine(NewDir(), "x.csv")));
        Assert.Contains("'csv'", ex.Message);
        Assert.Contains("parquet", ex.Message);
        Assert.Contains("arrow", ex.Message);
        Assert.Contains("jsonl", ex.Message);
        Assert.Equal("format", ex.ParamName);
    }

    [Fact]
    public void Format_names_are_case_insensitive()
    {
        var samples = new ExportSamples();
        var result = TableExporter.Export(samples.All(), samples.ReadBlob, "JSONL", Path.Combine(NewDir(), "x.jsonl"));
        Assert.Equal("jsonl", result.Format);
    }

    [Fact]
    public void Malformed_exam_date_fails_loudly_naming_the_study()
    {
        var samples = new ExportSamples();
        var bad = new StudyRecord { StudyId = "S-bad", ExamDate = "31/12/1999" };
        var ex = Assert.Throws<InvalidDataException>(() =>
            TableExporter.Export([bad], samples.ReadBlob, "jsonl", Path.Combine(NewDir(), "x.jsonl")));
        Assert.Contains("S-bad", ex.Message);
        Assert.Contains("31/12/1999", ex.Message);
    }

    [Fact]
    public void Blob_whose_size_differs_from_its_reference_fails_loudly()
    {
        var samples = new ExportSamples();
        var blob = samples.Store([1, 2, 3]);
        var study = new StudyRecord { StudyId = "S-short", DicomImage = blob with { Length = 4 } };
        var ex = Assert.Throws<InvalidDataException>(() =>
            TableExporter.Export([study], samples.ReadBlob, "jsonl", Path.Combine(NewDir(), "x.jsonl")));
        Assert.Contains("S-short", ex.Message);
    }

    [Fact]
    public void Studies_are_enumerated_once_and_blobs_read_lazily_per_batch()
    {
        var samples = new ExportSamples();
        int enumerations = 0;
        IEnumerable<StudyRecord> Studies()
        {
            enumerations++;
            for (int i = 0; i < 10; i++)
                yield return new StudyRecord { StudyId = $"S{i}", ReportPdf = samples.Store(ExportSamples.Pattern(16, i)) };
        }
        var readsAtProgress = new List<int>();
        TableExporter.Export(Studies(), samples.ReadBlob, "jsonl", Path.Combine(NewDir(), "x.jsonl"),
            new ExportOptions { BatchSize = 4, Progress = _ => readsAtProgress.Add(samples.BlobReads) });
        Assert.Equal(1, enumerations);
        Assert.Equal(new[] { 4, 8, 10 }, readsAtProgress);
    }
}
