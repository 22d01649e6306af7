namespace Casebook.Export;

/// <summary>Options for <see cref="TableExporter.Export"/>.</summary>
public sealed class ExportOptions
{
    /// <summary>
    /// Write the bytes of dicom_image, report_pdf and dictation_audio. When false the columns stay in the
    /// schema (so every export has the same shape) but hold null, and the blob store is never read.
    /// </summary>
    public bool IncludeBlobs { get; init; } = true;

    /// <summary>Also write the <c>clinical_retrieval_segments</c> table to <see cref="SegmentsPath"/>.</summary>
    public bool IncludeSegments { get; init; }

    /// <summary>
    /// Where the segments table goes; by default beside the main file as
    /// <c>{name}_segments{extension}</c> (clinical_retrieval.parquet → clinical_retrieval_segments.parquet).
    /// </summary>
    public string? SegmentsPath { get; init; }

    /// <summary>Rows per Parquet row group / Arrow record batch / JSONL flush.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// A batch is also cut when the blob bytes it holds pass this many bytes, so a few huge studies
    /// never pile up in memory.
    /// </summary>
    public long MaxBatchBlobBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Called after each batch is written.</summary>
    public Action<ExportProgress>? Progress { get; init; }
}

/// <summary>Progress after a batch: rows and segment rows written so far.</summary>
public readonly record struct ExportProgress(long RowsWritten, long SegmentRowsWritten, long BlobBytesWritten);

/// <summary>What an export wrote.</summary>
public sealed record ExportResult(
    string Format,
    string Path,
    long Rows,
    long BlobBytes,
    int Batches,
    string? SegmentsPath,
    long SegmentRows);
