using Casebook.Model;

namespace Casebook.Export;

/// <summary>One export format: receives batches of rows and writes them as they come.</summary>
internal interface ITableWriter : IDisposable
{
    void WriteStudies(IReadOnlyList<StudyRow> rows);
    void WriteSegments(IReadOnlyList<SegmentRow> rows);
    /// <summary>Finishes the file(s): footers, trailing metadata. Rows written after this are an error.</summary>
    void Complete();
}

/// <summary>
/// Exports the <c>clinical_retrieval</c> table (and optionally <c>clinical_retrieval_segments</c>) to
/// Parquet, Arrow IPC file format or JSON Lines. Streams: studies are read once, in batches, and each
/// batch's blobs are dropped once it is written. Column names and types: <see cref="ClinicalRetrievalSchema"/>;
/// conventions: docs/export.md.
/// </summary>
public static class TableExporter
{
    public static readonly IReadOnlyList<string> Formats = ["parquet", "arrow", "jsonl"];

    public static ExportResult Export(
        IEnumerable<StudyRecord> studies,
        Func<BlobRef, byte[]> readBlob,
        string format,
        string outPath,
        ExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(studies);
        ArgumentNullException.ThrowIfNull(readBlob);
        ArgumentException.ThrowIfNullOrEmpty(outPath);
        options ??= new ExportOptions();
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be at least 1.");

        string normalized = (format ?? "").Trim().ToLowerInvariant();
        if (!Formats.Contains(normalized))
            throw new ArgumentException(
                $"Unknown export format '{format}'. Allowed formats: {string.Join(", ", Formats)}.", nameof(format));

        string? segmentsPath = options.IncludeSegments ? options.SegmentsPath ?? DefaultSegmentsPath(outPath) : null;
        if (segmentsPath != null && Path.GetFullPath(segmentsPath) == Path.GetFullPath(outPath))
            throw new ArgumentException("The segments table cannot be written to the same path as the main table.", nameof(options));

        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir != null) Directory.CreateDirectory(dir);

        using ITableWriter writer = normalized switch
        {
            "parquet" => new ParquetTableWriter(outPath, segmentsPath, options.IncludeBlobs),
            "arrow" => new ArrowTableWriter(outPath, segmentsPath, options.IncludeBlobs),
            _ => new JsonlTableWriter(outPath, segmentsPath),
        };

        long rows = 0, segmentRows = 0, blobBytes = 0;
        int batches = 0;
        var studyBatch = new List<StudyRow>(options.BatchSize);
        var segmentBatch = new List<SegmentRow>();
        long batchBlobBytes = 0;

        void Flush()
        {
            if (studyBatch.Count == 0) return;
            writer.WriteStudies(studyBatch);
            if (segmentsPath != null) writer.WriteSegments(segmentBatch);
            rows += studyBatch.Count;
            segmentRows += segmentBatch.Count;
            blobBytes += batchBlobBytes;
            batches++;
            studyBatch.Clear();
            segmentBatch.Clear();
            batchBlobBytes = 0;
            options.Progress?.Invoke(new ExportProgress(rows, segmentRows, blobBytes));
        }

        foreach (var study in studies)
        {
            var row = StudyRow.From(study, readBlob, options.IncludeBlobs);
            studyBatch.Add(row);
            batchBlobBytes += row.BlobBytes;
            if (segmentsPath != null)
                foreach (var segment in study.Segments) segmentBatch.Add(new SegmentRow(study.StudyId, segment));
            if (studyBatch.Count >= options.BatchSize || batchBlobBytes >= options.MaxBatchBlobBytes) Flush();
        }
        Flush();
        writer.Complete();

        return new ExportResult(normalized, outPath, rows, blobBytes, batches, segmentsPath, segmentRows);
    }

    /// <summary>clinical_retrieval.parquet → clinical_retrieval_segments.parquet, beside it.</summary>
    public static string DefaultSegmentsPath(string outPath)
    {
        string dir = Path.GetDirectoryName(outPath) ?? "";
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(outPath) + "_segments" + Path.GetExtension(outPath));
    }
}
