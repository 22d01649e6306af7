namespace Casebook.Export;

/// <summary>
/// One exported column: its contract name and type, and how each export format and DuckDB see it.
/// </summary>
/// <param name="Name">Column name, exactly as in the table contract (snake_case).</param>
/// <param name="ContractType">The contract's type: string, date, bytes, object, array&lt;object&gt;, …</param>
/// <param name="ParquetType">Physical/logical Parquet type written.</param>
/// <param name="ArrowType">Arrow type written to the IPC file.</param>
/// <param name="DuckDbType">Type that DuckDB's DESCRIBE reports for the Parquet file.</param>
/// <param name="IsJson">True when values (or list elements) are JSON text (see docs/export.md).</param>
/// <param name="IsBlob">True for binary columns that <see cref="ExportOptions.IncludeBlobs"/> controls.</param>
public sealed record ExportColumn(
    string Name, string ContractType, string ParquetType, string ArrowType, string DuckDbType,
    bool IsJson = false, bool IsBlob = false);

/// <summary>
/// The exact schema of the exported <c>clinical_retrieval</c> table, in column order. Writers for every
/// format are checked against this list, so tests about "the exact table schema" can use it directly.
/// </summary>
public static class ClinicalRetrievalSchema
{
    public const string TableName = "clinical_retrieval";

    /// <summary>
    /// Key of the Parquet key-value metadata / Arrow schema metadata entry listing the columns whose
    /// values are JSON text (comma-separated).
    /// </summary>
    public const string JsonColumnsMetadataKey = "casebook.json_columns";
    /// <summary>Metadata key saying whether blob bytes were written ("true"/"false").</summary>
    public const string BlobsIncludedMetadataKey = "casebook.blobs_included";

    const string Utf8 = "BYTE_ARRAY (STRING)";
    const string JsonText = "BYTE_ARRAY (STRING), JSON text";
    const string JsonList = "LIST<BYTE_ARRAY (STRING), JSON text>";

    public static readonly IReadOnlyList<ExportColumn> Columns =
    [
        new("study_id", "string", Utf8 + " required", "utf8 not null", "VARCHAR"),
        new("patient_pseudo_id", "string", Utf8, "utf8", "VARCHAR"),
        new("modality", "string", Utf8, "utf8", "VARCHAR"),
        new("exam_date", "date", "INT32 (DATE)", "date32[day]", "DATE"),
        new("dicom_image", "bytes", "BYTE_ARRAY", "binary", "BLOB", IsBlob: true),
        new("dicom_mime", "string", Utf8, "utf8", "VARCHAR"),
        new("report_text", "string", Utf8, "utf8", "VARCHAR"),
        new("report_pdf", "bytes", "BYTE_ARRAY", "binary", "BLOB", IsBlob: true),
        new("dictation_audio", "bytes", "BYTE_ARRAY", "binary", "BLOB", IsBlob: true),
        new("dictation_audio_mime", "string", Utf8, "utf8", "VARCHAR"),
        new("image_regions", "array<object>", JsonList, "list<utf8 arrow.json>", "VARCHAR[]", IsJson: true),
        new("timeline_events", "array<object>", JsonList, "list<utf8 arrow.json>", "VARCHAR[]", IsJson: true),
        new("image_embeddings", "array<array<float>>", "LIST<LIST<FLOAT>>", "list<list<float32>>", "FLOAT[][]"),
        new("text_embeddings", "array<array<float>>", "LIST<LIST<FLOAT>>", "list<list<float32>>", "FLOAT[][]"),
        new("sparse_terms", "map<string,float>", "MAP<BYTE_ARRAY (STRING), FLOAT>", "map<utf8, float32>", "MAP(VARCHAR, FLOAT)"),
        new("clinical_codes", "array<string>", "LIST<BYTE_ARRAY (STRING)>", "list<utf8>", "VARCHAR[]"),
        new("metadata", "object", JsonText, "utf8 arrow.json", "VARCHAR", IsJson: true),
        new("anatomical_regions", "array<object|string>", JsonList, "list<utf8 arrow.json>", "VARCHAR[]", IsJson: true),
        new("pathology_findings", "array<object|string>", JsonList, "list<utf8 arrow.json>", "VARCHAR[]", IsJson: true),
        new("risk_factors", "array<object|string>", JsonList, "list<utf8 arrow.json>", "VARCHAR[]", IsJson: true),
    ];

    /// <summary>Column name → contract type, in column order.</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields =
        Columns.ToDictionary(c => c.Name, c => c.ContractType);

    /// <summary>Names of the columns holding JSON text.</summary>
    public static IEnumerable<string> JsonColumns => Columns.Where(c => c.IsJson).Select(c => c.Name);
}

/// <summary>
/// The exact schema of the optional second table, <c>clinical_retrieval_segments</c>: one row per
/// searchable segment, flattened (source location as <c>source_*</c> columns).
/// </summary>
public static class ClinicalRetrievalSegmentsSchema
{
    public const string TableName = "clinical_retrieval_segments";

    const string Utf8 = "BYTE_ARRAY (STRING)";

    public static readonly IReadOnlyList<ExportColumn> Columns =
    [
        new("segment_id", "string", Utf8 + " required", "utf8 not null", "VARCHAR"),
        new("study_id", "string", Utf8 + " required", "utf8 not null", "VARCHAR"),
        new("kind", "string", Utf8 + " required", "utf8 not null", "VARCHAR"),
        new("text", "string", Utf8, "utf8", "VARCHAR"),
        new("source_file", "string", Utf8, "utf8", "VARCHAR"),
        new("source_section", "string", Utf8, "utf8", "VARCHAR"),
        new("source_page", "int", "INT32", "int32", "INTEGER"),
        new("source_frame", "int", "INT32", "int32", "INTEGER"),
        new("source_char_start", "int", "INT32", "int32", "INTEGER"),
        new("source_char_end", "int", "INT32", "int32", "INTEGER"),
        new("source_time_start", "double", "DOUBLE", "float64", "DOUBLE"),
        new("source_time_end", "double", "DOUBLE", "float64", "DOUBLE"),
        new("blob_sha256", "string", Utf8, "utf8", "VARCHAR"),
        new("blob_mime", "string", Utf8, "utf8", "VARCHAR"),
        new("text_embedding", "array<float>", "LIST<FLOAT>", "list<float32>", "FLOAT[]"),
        new("text_model", "string", Utf8, "utf8", "VARCHAR"),
        new("image_embedding", "array<float>", "LIST<FLOAT>", "list<float32>", "FLOAT[]"),
        new("image_model", "string", Utf8, "utf8", "VARCHAR"),
    ];

    /// <summary>Column name → contract type, in column order.</summary>
    public static readonly IReadOnlyDictionary<string, string> Fields =
        Columns.ToDictionary(c => c.Name, c => c.ContractType);
}
