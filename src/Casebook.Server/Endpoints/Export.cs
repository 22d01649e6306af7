using Casebook.Export;
using Casebook.Model;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

static class Export
{
    /// <summary>
    /// The table as one file (?format=parquet|arrow|jsonl, ?as_of=V, ?blobs=true for admins). Researchers' exports carry no
    /// blobs and no references to originals or source file names. Written to a temporary file, streamed, then deleted.
    /// </summary>
    public static IResult Download(HttpContext ctx, CasebookDb db)
    {
        var r = ctx.Request;
        var format = RequestValues.String(r, "format", 16) ?? throw new ArgumentException($"'format' is required: {string.Join(", ", TableExporter.Formats)}");
        if (!TableExporter.Formats.Contains(format)) throw new ArgumentException($"'format' must be one of {string.Join(", ", TableExporter.Formats)}, not '{format}'");
        var asOf = RequestValues.Long(r, "as_of");
        var researcher = RequestValues.IsResearcher(ctx.User);
        var blobs = RequestValues.Flag(r, "blobs");
        if (researcher && blobs) throw new ProblemException(403, "Forbidden", "researchers export de-identified rows without blobs");
        var studies = db.Studies(asOf);
        if (researcher) studies = studies.Select(Deidentified);
        var path = Path.Combine(Path.GetTempPath(), $"casebook-export-{Guid.NewGuid():N}.{format}");
        try
        {
            var result = TableExporter.Export(studies, db.ReadBlob, format, path, new ExportOptions { IncludeBlobs = blobs });
            ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{result.Rows} rows as {format}";
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
            return Results.File(stream, Mime(format), $"{CasebookDb.TableName}.{format}");
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    internal static string Mime(string format) => format switch { "parquet" => "application/vnd.apache.parquet", "arrow" => "application/vnd.apache.arrow.file", _ => "application/x-ndjson" };

    internal static StudyRecord Deidentified(StudyRecord s)
    {
        s.DicomImage = null; s.DicomMime = null; s.DictationAudio = null; s.DictationAudioMime = null; s.ReportPdf = null;
        s.Metadata.Remove("source_files");
        foreach (var g in s.Segments) { g.Blob = null; g.BlobMime = null; }
        return s;
    }
}
