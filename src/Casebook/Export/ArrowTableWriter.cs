using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using ArrowField = Apache.Arrow.Field;

namespace Casebook.Export;

/// <summary>
/// Arrow IPC <em>file</em> format (Feather v2, magic "ARROW1"): one record batch per export batch.
/// JSON text columns are utf8 fields tagged with the canonical <c>arrow.json</c> extension type
/// (field metadata ARROW:extension:name), so pyarrow and DuckDB can see them as JSON; readers that don't
/// know it just see utf8.
/// </summary>
internal sealed class ArrowTableWriter : ITableWriter
{
    static readonly Dictionary<string, string> JsonExtension = new()
    {
        ["ARROW:extension:name"] = "arrow.json",
        ["ARROW:extension:metadata"] = "",
    };

    static ArrowField JsonItem() => new("item", StringType.Default, nullable: true, JsonExtension);
    static ListType FloatList() => new(new ArrowField("item", FloatType.Default, nullable: false));

    internal static Schema StudySchema(bool includeBlobs)
    {
        var b = new Schema.Builder()
            .Field(new ArrowField("study_id", StringType.Default, false))
            .Field(new ArrowField("patient_pseudo_id", StringType.Default, true))
            .Field(new ArrowField("modality", StringType.Default, true))
            .Field(new ArrowField("exam_date", Date32Type.Default, true))
            .Field(new ArrowField("dicom_image", BinaryType.Default, true))
            .Field(new ArrowField("dicom_mime", StringType.Default, true))
            .Field(new ArrowField("report_text", StringType.Default, true))
            .Field(new ArrowField("report_pdf", BinaryType.Default, true))
            .Field(new ArrowField("dictation_audio", BinaryType.Default, true))
            .Field(new ArrowField("dictation_audio_mime", StringType.Default, true))
            .Field(new ArrowField("image_regions", new ListType(JsonItem()), true))
            .Field(new ArrowField("timeline_events", new ListType(JsonItem()), true))
            .Field(new ArrowField("image_embeddings", new ListType(new ArrowField("item", FloatList(), false)), true))
            .Field(new ArrowField("text_embeddings", new ListType(new ArrowField("item", FloatList(), false)), true))
            .Field(new ArrowField("sparse_terms", new MapType(StringType.Default, FloatType.Default, nullable: false), true))
            .Field(new ArrowField("clinical_codes", new ListType(new ArrowField("item", StringType.Default, true)), true))
            .Field(new ArrowField("metadata", StringType.Default, true, JsonExtension))
            .Field(new ArrowField("anatomical_regions", new ListType(JsonItem()), true))
            .Field(new ArrowField("pathology_findings", new ListType(JsonItem()), true))
            .Field(new ArrowField("risk_factors", new ListType(JsonItem()), true))
            .Metadata(ClinicalRetrievalSchema.JsonColumnsMetadataKey, string.Join(",", ClinicalRetrievalSchema.JsonColumns))
            .Metadata(ClinicalRetrievalSchema.BlobsIncludedMetadataKey, includeBlobs ? "true" : "false");
        return b.Build();
    }

    internal static Schema SegmentSchema() => new Schema.Builder()
        .Field(new ArrowField("segment_id", StringType.Default, false))
        .Field(new ArrowField("study_id", StringType.Default, false))
        .Field(new ArrowField("kind", StringType.Default, false))
        .Field(new ArrowField("text", StringType.Default, true))
        .Field(new ArrowField("source_file", StringType.Default, true))
        .Field(new ArrowField("source_section", StringType.Default, true))
        .Field(new ArrowField("source_page", Int32Type.Default, true))
        .Field(new ArrowField("source_frame", Int32Type.Default, true))
        .Field(new ArrowField("source_char_start", Int32Type.Default, true))
        .Field(new ArrowField("source_char_end", Int32Type.Default, true))
        .Field(new ArrowField("source_time_start", DoubleType.Default, true))
        .Field(new ArrowField("source_time_end", DoubleType.Default, true))
        .Field(new ArrowField("blob_sha256", StringType.Default, true))
        .Field(new ArrowField("blob_mime", StringType.Default, true))
        .Field(new ArrowField("text_embedding", FloatList(), true))
        .Field(new ArrowField("text_model", StringType.Default, true))
        .Field(new ArrowField("image_embedding", FloatList(), true))
        .Field(new ArrowField("image_model", StringType.Default, true))
        .Build();

    readonly Schema _studySchema;
    readonly Schema _segmentSchema;
    readonly FileStream _studyStream;
    readonly ArrowFileWriter _studyWriter;
    readonly FileStream? _segmentStream;
    readonly ArrowFileWriter? _segmentWriter;
    bool _studiesStarted, _segmentsStarted;

    public ArrowTableWriter(string path, string? segmentsPath, bool includeBlobs)
    {
        _studySchema = StudySchema(includeBlobs);
        _segmentSchema = SegmentSchema();
        _studyStream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _studyWriter = new ArrowFileWriter(_studyStream, _studySchema, leaveOpen: true);
        if (segmentsPath != null)
        {
            _segmentStream = new FileStream(segmentsPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            _segmentWriter = new ArrowFileWriter(_segmentStream, _segmentSchema, leaveOpen: true);
        }
    }

    public void WriteStudies(IReadOnlyList<StudyRow> rows)
    {
        var studyId = new StringArray.Builder();
        var patient = new StringArray.Builder();
        var modality = new StringArray.Builder();
        var examDate = new Date32Array.Builder();
        var dicom = new BinaryArray.Builder();
        var dicomMime = new StringArray.Builder();
        var reportText = new StringArray.Builder();
        var pdf = new BinaryArray.Builder();
        var audio = new BinaryArray.Builder();
        var audioMime = new StringArray.Builder();
        var imageRegions = new ListArray.Builder(JsonItem());
        var timeline = new ListArray.Builder(JsonItem());
        var imageEmb = new ListArray.Builder(new ArrowField("item", FloatList(), false));
        var textEmb = new ListArray.Builder(new ArrowField("item", FloatList(), false));
        var sparse = new MapArray.Builder(new MapType(StringType.Default, FloatType.Default, nullable: false));
        var codes = new ListArray.Builder(new ArrowField("item", StringType.Default, true));
        var metadata = new StringArray.Builder();
        var anatomical = new ListArray.Builder(JsonItem());
        var pathology = new ListArray.Builder(JsonItem());
        var risk = new ListArray.Builder(JsonItem());

        foreach (var row in rows)
        {
            var s = row.Source;
            studyId.Append(s.StudyId);
            AppendString(patient, s.PatientPseudoId);
            AppendString(modality, s.Modality);
            if (row.ExamDate is { } d) examDate.Append(d); else examDate.AppendNull();
            AppendBytes(dicom, row.DicomImage);
            AppendString(dicomMime, s.DicomMime);
            AppendString(reportText, s.ReportText);
            AppendBytes(pdf, row.ReportPdf);
            AppendBytes(audio, row.DictationAudio);
            AppendString(audioMime, s.DictationAudioMime);
            AppendStrings(imageRegions, row.ImageRegions);
            AppendStrings(timeline, row.TimelineEvents);
            AppendVectors(imageEmb, row.ImageEmbeddings);
            AppendVectors(textEmb, row.TextEmbeddings);
            sparse.Append();
            var keys = (StringArray.Builder)sparse.KeyBuilder;
            var values = (FloatArray.Builder)sparse.ValueBuilder;
            foreach (var (term, weight) in s.SparseTerms) { keys.Append(term); values.Append(weight); }
            AppendStrings(codes, s.ClinicalCodes);
            metadata.Append(row.Metadata);
            AppendStrings(anatomical, row.AnatomicalRegions);
            AppendStrings(pathology, row.PathologyFindings);
            AppendStrings(risk, row.RiskFactors);
        }

        IArrowArray[] columns =
        [
            studyId.Build(), patient.Build(), modality.Build(), examDate.Build(), dicom.Build(), dicomMime.Build(),
            reportText.Build(), pdf.Build(), audio.Build(), audioMime.Build(), imageRegions.Build(), timeline.Build(),
            imageEmb.Build(), textEmb.Build(), sparse.Build(), codes.Build(), metadata.Build(), anatomical.Build(),
            pathology.Build(), risk.Build(),
        ];
        using var batch = new RecordBatch(_studySchema, columns, rows.Count);
        _studyWriter.WriteRecordBatch(batch);
        _studiesStarted = true;
    }

    public void WriteSegments(IReadOnlyList<SegmentRow> rows)
    {
        if (_segmentWriter is null || rows.Count == 0) return;
        var segmentId = new StringArray.Builder();
        var studyId = new StringArray.Builder();
        var kind = new StringArray.Builder();
        var text = new StringArray.Builder();
        var file = new StringArray.Builder();
        var section = new StringArray.Builder();
        var page = new Int32Array.Builder();
        var frame = new Int32Array.Builder();
        var charStart = new Int32Array.Builder();
        var charEnd = new Int32Array.Builder();
        var timeStart = new DoubleArray.Builder();
        var timeEnd = new DoubleArray.Builder();
        var blobSha = new StringArray.Builder();
        var blobMime = new StringArray.Builder();
        var textEmb = new ListArray.Builder(new ArrowField("item", FloatType.Default, false));
        var textModel = new StringArray.Builder();
        var imageEmb = new ListArray.Builder(new ArrowField("item", FloatType.Default, false));
        var imageModel = new StringArray.Builder();

        foreach (var (sid, seg) in rows)
        {
            segmentId.Append(seg.SegmentId);
            studyId.Append(sid);
            kind.Append(seg.Kind);
            AppendString(text, seg.Text);
            AppendString(file, seg.Source.File);
            AppendString(section, seg.Source.Section);
            page.Append(seg.Source.Page);
            frame.Append(seg.Source.Frame);
            charStart.Append(seg.Source.CharStart);
            charEnd.Append(seg.Source.CharEnd);
            timeStart.Append(seg.Source.TimeStart);
            timeEnd.Append(seg.Source.TimeEnd);
            AppendString(blobSha, seg.Blob?.Sha256);
            AppendString(blobMime, seg.BlobMime);
            AppendVector(textEmb, seg.TextEmbedding);
            AppendString(textModel, seg.TextModel);
            AppendVector(imageEmb, seg.ImageEmbedding);
            AppendString(imageModel, seg.ImageModel);
        }

        IArrowArray[] columns =
        [
            segmentId.Build(), studyId.Build(), kind.Build(), text.Build(), file.Build(), section.Build(),
            page.Build(), frame.Build(), charStart.Build(), charEnd.Build(), timeStart.Build(), timeEnd.Build(),
            blobSha.Build(), blobMime.Build(), textEmb.Build(), textModel.Build(), imageEmb.Build(), imageModel.Build(),
        ];
        using var batch = new RecordBatch(_segmentSchema, columns, rows.Count);
        _segmentWriter.WriteRecordBatch(batch);
        _segmentsStarted = true;
    }

    public void Complete()
    {
        // With no batch written the writer has not emitted magic + schema yet; an empty table still needs them.
        if (!_studiesStarted) _studyWriter.WriteStart();
        if (_segmentWriter != null && !_segmentsStarted) _segmentWriter.WriteStart();
        _studyWriter.WriteEnd();
        _segmentWriter?.WriteEnd();
        _studyStream.Flush();
        _segmentStream?.Flush();
    }

    public void Dispose()
    {
        _studyWriter.Dispose();
        _segmentWriter?.Dispose();
        _studyStream.Dispose();
        _segmentStream?.Dispose();
    }

    static void AppendString(StringArray.Builder b, string? value)
    {
        if (value is null) b.AppendNull(); else b.Append(value);
    }

    static void AppendBytes(BinaryArray.Builder b, byte[]? value)
    {
        if (value is null) b.AppendNull(); else b.Append(value.AsSpan());
    }

    static void AppendStrings(ListArray.Builder b, List<string> values)
    {
        b.Append();
        var items = (StringArray.Builder)b.ValueBuilder;
        foreach (var v in values) items.Append(v);
    }

    static void AppendVectors(ListArray.Builder b, List<float[]> vectors)
    {
        b.Append();
        var inner = (ListArray.Builder)b.ValueBuilder;
        foreach (var v in vectors) AppendVector(inner, v);
    }

    static void AppendVector(ListArray.Builder b, float[]? v)
    {
        if (v is null) { b.AppendNull(); return; }
        b.Append();
        ((FloatArray.Builder)b.ValueBuilder).Append(v.AsSpan());
    }
}
