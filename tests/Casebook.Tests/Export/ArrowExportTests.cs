using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Casebook.Export;
using Xunit;

namespace Casebook.Tests.Export;

/// <summary>Arrow IPC file export read back with Arrow's own file reader.</summary>
public class ArrowExportTests : IDisposable
{
    readonly TempDirectory _temp = new();

    string NewDir() => Directory.CreateDirectory(Path.Combine(_temp.Path, Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose() => _temp.Dispose();

    (string Path, ExportResult Result, ExportSamples Samples) ExportSamplesTo(ExportOptions? options = null)
    {
        var samples = new ExportSamples();
        string path = Path.Combine(NewDir(), "clinical_retrieval.arrow");
        var result = TableExporter.Export(samples.All(), samples.ReadBlob, "arrow", path, options);
        return (path, result, samples);
    }

    static (Schema Schema, List<RecordBatch> Batches) ReadAll(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new ArrowFileReader(stream);
        var batches = new List<RecordBatch>();
        for (var batch = reader.ReadNextRecordBatch(); batch != null; batch = reader.ReadNextRecordBatch())
            batches.Add(batch);
        return (reader.Schema, batches);
    }

    static int Row(RecordBatch batch, string studyId)
    {
        var ids = (StringArray)batch.Column("study_id");
        for (int i = 0; i < ids.Length; i++) if (ids.GetString(i) == studyId) return i;
        throw new KeyNotFoundException(studyId);
    }

    [Fact]
    public void Arrow_file_starts_and_ends_with_the_ipc_file_magic()
    {
        var (path, _, _) = ExportSamplesTo();
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal("ARROW1"u8.ToArray(), bytes[..6]);
        Assert.Equal("ARROW1"u8.ToArray(), bytes[^6..]);
    }

    [Fact]
    public void Arrow_columns_are_the_exact_table_schema()
    {
        var (path, _, _) = ExportSamplesTo();
        var (schema, _) = ReadAll(path);
        Assert.Equal(ClinicalRetrievalSchema.Columns.Select(c => c.Name), schema.FieldsList.Select(f => f.Name));

        Assert.IsType<StringType>(schema.GetFieldByName("study_id").DataType);
        Assert.False(schema.GetFieldByName("study_id").IsNullable);
        Assert.IsType<Date32Type>(schema.GetFieldByName("exam_date").DataType);
        foreach (var blob in ClinicalRetrievalSchema.Columns.Where(c => c.IsBlob))
            Assert.IsType<BinaryType>(schema.GetFieldByName(blob.Name).DataType);

        var imageEmbeddings = Assert.IsType<ListType>(schema.GetFieldByName("image_embeddings").DataType);
        var inner = Assert.IsType<ListType>(imageEmbeddings.ValueDataType);
        Assert.IsType<FloatType>(inner.ValueDataType);

        var sparse = Assert.IsType<MapType>(schema.GetFieldByName("sparse_terms").DataType);
        Assert.IsType<StringType>(sparse.KeyField.DataType);
        Assert.IsType<FloatType>(sparse.ValueField.DataType);

        var codes = Assert.IsType<ListType>(schema.GetFieldByName("clinical_codes").DataType);
        Assert.IsType<StringType>(codes.ValueDataType);

        // JSON columns: utf8 tagged with the canonical arrow.json extension (on the list element for lists).
        var metadata = schema.GetFieldByName("metadata");
        Assert.IsType<StringType>(metadata.DataType);
        Assert.Equal("arrow.json", metadata.Metadata["ARROW:extension:name"]);
        foreach (var name in new[] { "image_regions", "timeline_events", "anatomical_regions", "pathology_findings", "risk_factors" })
        {
            var list = Assert.IsType<ListType>(schema.GetFieldByName(name).DataType);
            Assert.IsType<StringType>(list.ValueDataType);
            Assert.Equal("arrow.json", list.ValueField.Metadata["ARROW:extension:name"]);
        }
        Assert.Equal(string.Join(",", ClinicalRetrievalSchema.JsonColumns), schema.Metadata[ClinicalRetrievalSchema.JsonColumnsMetadataKey]);
    }

    [Fact]
    public void Arrow_round_trips_every_field()
    {
        var (path, result, samples) = ExportSamplesTo();
        var s1 = samples.Full();
        var (_, batches) = ReadAll(path);
        var batch = Assert.Single(batches);
        Assert.Equal(3, batch.Length);
        Assert.Equal(3, result.Rows);
        int r = Row(batch, "S1");

        Assert.Equal("P-ü-001", ((StringArray)batch.Column("patient_pseudo_id")).GetString(r));
        Assert.Equal("CT", ((StringArray)batch.Column("modality")).GetString(r));
        Assert.Equal(new DateOnly(2024, 2, 29), ((Date32Array)batch.Column("exam_date")).GetDateOnly(r));
        Assert.Equal(samples.Blobs[s1.DicomImage!.Sha256], ((BinaryArray)batch.Column("dicom_image")).GetBytes(r).ToArray());
        Assert.Equal("application/dicom", ((StringArray)batch.Column("dicom_mime")).GetString(r));
        Assert.Equal(ExportSamples.UnicodeReport, ((StringArray)batch.Column("report_text")).GetString(r));
        Assert.Equal(samples.Blobs[s1.ReportPdf!.Sha256], ((BinaryArray)batch.Column("report_pdf")).GetBytes(r).ToArray());
        Assert.Equal(samples.Blobs[s1.DictationAudio!.Sha256], ((BinaryArray)batch.Column("dictation_audio")).GetBytes(r).ToArray());
        Assert.Equal("audio/wav", ((StringArray)batch.Column("dictation_audio_mime")).GetString(r));

        AssertJsonList(s1.ImageRegions, batch.Column("image_regions"), r);
        AssertJsonList(s1.TimelineEvents, batch.Column("timeline_events"), r);
        AssertVectors(s1.ImageEmbeddings.ToList(), batch.Column("image_embeddings"), r);
        AssertVectors(s1.TextEmbeddings.ToList(), batch.Column("text_embeddings"), r);

        var sparse = (MapArray)batch.Column("sparse_terms");
        var terms = sparse.GetKeyValuePairs<StringArray, string, FloatArray, float>(r, (a, i) => a.GetString(i), (a, i) => a.GetValue(i)!.Value)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(s1.SparseTerms, terms);

        var codes = (StringArray)((ListArray)batch.Column("clinical_codes")).GetSlicedValues(r);
        Assert.Equal(s1.ClinicalCodes, Enumerable.Range(0, codes.Length).Select(i => codes.GetString(i)));

        Assert.True(JsonNode.DeepEquals(s1.Metadata, JsonNode.Parse(((StringArray)batch.Column("metadata")).GetString(r))));
        AssertJsonList(s1.AnatomicalRegions, batch.Column("anatomical_regions"), r);
        AssertJsonList(s1.PathologyFindings, batch.Column("pathology_findings"), r);
        AssertJsonList(s1.RiskFactors, batch.Column("risk_factors"), r);
    }

    [Fact]
    public void Arrow_keeps_nulls_null_and_empty_lists_empty()
    {
        var (path, _, _) = ExportSamplesTo();
        var batch = Assert.Single(ReadAll(path).Batches);
        int r = Row(batch, "S2-empty");
        Assert.Equal("", ((StringArray)batch.Column("patient_pseudo_id")).GetString(r));
        foreach (var name in new[] { "modality", "exam_date", "dicom_image", "dicom_mime", "report_text", "report_pdf", "dictation_audio", "dictation_audio_mime" })
            Assert.True(batch.Column(name).IsNull(r), name);
        foreach (var name in new[] { "image_regions", "timeline_events", "image_embeddings", "text_embeddings", "clinical_codes", "anatomical_regions", "pathology_findings", "risk_factors", "sparse_terms" })
        {
            var list = (ListArray)batch.Column(name);
            Assert.False(list.IsNull(r), name);
            Assert.Equal(0, list.GetValueLength(r));
        }
        Assert.Equal("{}", ((StringArray)batch.Column("metadata")).GetString(r));

        int s3 = Row(batch, "S3");
        Assert.Equal("", ((StringArray)batch.Column("report_text")).GetString(s3));
        Assert.True(batch.Column("dicom_image").IsNull(s3));
        Assert.Equal(10, ((BinaryArray)batch.Column("dictation_audio")).GetBytes(s3).Length);
    }

    [Fact]
    public void Arrow_writes_one_record_batch_per_export_batch()
    {
        var samples = new ExportSamples();
        var studies = Enumerable.Range(0, 5).Select(i => new Casebook.Model.StudyRecord { StudyId = $"S{i}", ExamDate = "2020-01-0" + (i + 1) });
        string path = Path.Combine(NewDir(), "batches.arrow");
        var result = TableExporter.Export(studies, samples.ReadBlob, "arrow", path, new ExportOptions { BatchSize = 2 });
        var (_, batches) = ReadAll(path);
        Assert.Equal(new[] { 2, 2, 1 }, batches.Select(b => b.Length));
        Assert.Equal(3, result.Batches);
        Assert.Equal(new DateOnly(2020, 1, 5), ((Date32Array)batches[2].Column("exam_date")).GetDateOnly(0));
    }

    [Fact]
    public void Arrow_batches_are_also_cut_by_blob_bytes()
    {
        var samples = new ExportSamples();
        var studies = Enumerable.Range(0, 4).Select(i => new Casebook.Model.StudyRecord
        {
            StudyId = $"S{i}",
            DicomImage = samples.Store(ExportSamples.Pattern(1000, i)),
        }).ToList();
        string path = Path.Combine(NewDir(), "blobcut.arrow");
        var result = TableExporter.Export(studies, samples.ReadBlob, "arrow", path,
            new ExportOptions { BatchSize = 256, MaxBatchBlobBytes = 1500 });
        Assert.Equal(new[] { 2, 2 }, ReadAll(path).Batches.Select(b => b.Length));
        Assert.Equal(4000, result.BlobBytes);
    }

    [Fact]
    public void Arrow_segments_table_round_trips()
    {
        var (_, result, samples) = ExportSamplesTo(new ExportOptions { IncludeSegments = true });
        var (schema, batches) = ReadAll(result.SegmentsPath!);
        Assert.Equal(ClinicalRetrievalSegmentsSchema.Columns.Select(c => c.Name), schema.FieldsList.Select(f => f.Name));
        var batch = Assert.Single(batches);
        Assert.Equal(5, batch.Length);

        var ids = (StringArray)batch.Column("segment_id");
        int r = Enumerable.Range(0, batch.Length).Single(i => ids.GetString(i) == "S1/report_paragraph/0");
        Assert.Equal("S1", ((StringArray)batch.Column("study_id")).GetString(r));
        Assert.Equal("report_paragraph", ((StringArray)batch.Column("kind")).GetString(r));
        Assert.Equal("FINDINGS", ((StringArray)batch.Column("source_section")).GetString(r));
        Assert.Equal(1, ((Int32Array)batch.Column("source_page")).GetValue(r));
        Assert.Null(((Int32Array)batch.Column("source_frame")).GetValue(r));
        Assert.Null(((DoubleArray)batch.Column("source_time_start")).GetValue(r));
        var expected = samples.Full().Segments[1].TextEmbedding!;
        Assert.Equal(expected, ((FloatArray)((ListArray)batch.Column("text_embedding")).GetSlicedValues(r)).Values.ToArray());
        Assert.True(batch.Column("image_embedding").IsNull(r));
        Assert.Equal("all-MiniLM-L6-v2", ((StringArray)batch.Column("text_model")).GetString(r));
    }

    [Fact]
    public void Arrow_export_of_no_studies_is_a_readable_empty_file()
    {
        string path = Path.Combine(NewDir(), "empty.arrow");
        var result = TableExporter.Export([], _ => throw new InvalidOperationException(), "arrow", path,
            new ExportOptions { IncludeSegments = true });
        var (schema, batches) = ReadAll(path);
        Assert.Equal(ClinicalRetrievalSchema.Columns.Count, schema.FieldsList.Count);
        Assert.Empty(batches);
        Assert.Empty(ReadAll(result.SegmentsPath!).Batches);
    }

    static void AssertJsonList(JsonArray expected, IArrowArray column, int row)
    {
        var items = (StringArray)((ListArray)column).GetSlicedValues(row);
        Assert.Equal(expected.Count, items.Length);
        for (int i = 0; i < items.Length; i++)
            Assert.True(JsonNode.DeepEquals(expected[i], JsonNode.Parse(items.GetString(i))), items.GetString(i));
    }

    static void AssertVectors(List<float[]> expected, IArrowArray column, int row)
    {
        var vectors = (ListArray)((ListArray)column).GetSlicedValues(row);
        Assert.Equal(expected.Count, vectors.Length);
        for (int i = 0; i < vectors.Length; i++)
            Assert.Equal(expected[i], ((FloatArray)vectors.GetSlicedValues(i)).Values.ToArray());
    }
}
