using Casebook.Cluster;
using Casebook.Export;
using Casebook.Model;
using Casebook.Server.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Cluster;

/// <summary>
/// `serve --cluster`: as_of (a log sequence, docs/cluster.md "Time travel") on searches and study reads, and the export of
/// one node (same parameters, roles, audit and file), with rows gathered from every shard and blobs from the object store.
/// </summary>
static class ClusterHistoryEndpoints
{
    /// <summary>The request's as_of as a log sequence, or null.</summary>
    public static long? AsOf(HttpRequest r, string? text) =>
        text == null ? null : long.TryParse(text, out var s) ? s : throw new ArgumentException($"'as_of' must be a log sequence (a number), not '{text}'");

    /// <summary>A study now or as of the request's as_of; 404 as one node when absent.</summary>
    public static async Task<StudyRecord> Study(string studyId, HttpContext ctx, ClusterClient cluster)
    {
        var r = ctx.Request;
        var id = RequestValues.StudyId(studyId);
        var asOf = AsOf(r, r.Query.ContainsKey("as_of") ? r.Query["as_of"].ToString() : null);
        var study = asOf is { } s ? await cluster.GetStudyAsOfAsync(id, s, ctx.RequestAborted) : await cluster.GetStudyAsync(id, ctx.RequestAborted);
        return study ?? throw new ProblemException(404, "Not found", $"no study '{studyId}'" + (asOf != null ? $" at log sequence {asOf}" : ""));
    }

    /// <summary>GET /api/export as on one node: ?format, ?as_of (a log sequence), ?blobs=true for admins; researchers get de-identified rows.</summary>
    public static async Task<IResult> Download(HttpContext ctx, ClusterClient cluster)
    {
        var r = ctx.Request;
        var format = RequestValues.String(r, "format", 16) ?? throw new ArgumentException($"'format' is required: {string.Join(", ", TableExporter.Formats)}");
        if (!TableExporter.Formats.Contains(format)) throw new ArgumentException($"'format' must be one of {string.Join(", ", TableExporter.Formats)}, not '{format}'");
        var asOf = RequestValues.Long(r, "as_of");
        var researcher = RequestValues.IsResearcher(ctx.User);
        var blobs = RequestValues.Flag(r, "blobs");
        if (researcher && blobs) throw new ProblemException(403, "Forbidden", "researchers export de-identified rows without blobs");
        if (asOf is { } s) await cluster.CheckLogSeqAsync(s, ctx.RequestAborted);
        var path = Path.Combine(Path.GetTempPath(), $"casebook-export-{Guid.NewGuid():N}.{format}");
        try
        {
            // The exporter reads synchronously (pages from the shards, blobs from the object store): off the request thread.
            var result = await Task.Run(() =>
            {
                var studies = cluster.StudiesForExport(asOf);
                if (researcher) studies = studies.Select(Endpoints.Export.Deidentified);
                return TableExporter.Export(studies, cluster.ReadBlob, format, path, new ExportOptions { IncludeBlobs = blobs });
            }, ctx.RequestAborted);
            ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{result.Rows} rows as {format}";
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
            return Results.File(stream, Endpoints.Export.Mime(format), $"{CasebookDb.TableName}.{format}");
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }
}
