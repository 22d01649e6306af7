using System.Text.Json.Nodes;
using Casebook.Cluster;
using Casebook.Search;
using Casebook.Server.Endpoints;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Cluster;

/// <summary>
/// The endpoints of `serve --cluster`: the single-node request parameters, errors and JSON, answered by the coordinator
/// (<see cref="ClusterClient"/>): searches scatter and gather, study reads go to the study's shard, clinician changes go
/// into the log and are applied by the study's shard. Roles and audit come from the same route metadata as one node.
/// </summary>
static class ClusterEndpoints
{
    /// <summary>No key: the server runs and the log answers; "version" is the log's last sequence.</summary>
    public static async Task<IResult> Health(ClusterClient cluster, HttpContext ctx) =>
        Results.Json(new JsonObject { ["status"] = "ok", ["version"] = await cluster.Log.LastLogSequenceAsync(ctx.RequestAborted) });

    public static async Task<IResult> Search(HttpContext ctx, ClusterClient cluster, ServerOptions o)
    {
        var q = RequestValues.String(ctx.Request, "q", o.MaxQueryTextLength) ?? throw new ArgumentException("'q' (the search text) is required; search by image with POST /api/search/image");
        return await Run(ctx, cluster, o, new ShardSearchRequest { Text = q }, null);
    }

    /// <summary>POST /api/search/image: the coordinator embeds the picture once; shards search their image slices with it.</summary>
    public static async Task<IResult> Image(HttpContext ctx, ClusterClient cluster, ServerOptions o)
    {
        var (bytes, text, form) = await Endpoints.Search.ReadImageQueryAsync(ctx, o);
        var vector = ShardSearch.EmbedImageQuery(Casebook.Embed.EmbedderCache.Image(null), bytes);
        return await Run(ctx, cluster, o, new ShardSearchRequest { Text = text, ImageVector = vector }, form);
    }

    static async Task<IResult> Run(HttpContext ctx, ClusterClient cluster, ServerOptions o, ShardSearchRequest request, IFormCollection? form)
    {
        var r = ctx.Request;
        string? Value(string name, int max) => Endpoints.Search.Value(r, form, name, max);
        var limit = 10;
        if (Value("limit", 16) is { } limitText && (!int.TryParse(limitText, out limit) || limit < 1 || limit > o.MaxSearchLimit))
            throw new ArgumentException($"'limit' must be an integer from 1 to {o.MaxSearchLimit}, not '{limitText}'");
        request = request with
        {
            Filter = Value("where", o.MaxFilterLength), Limit = limit, Exact = Value("exact", 8) is "true" or "1",
            AsOfLogSeq = ClusterHistoryEndpoints.AsOf(r, Value("as_of", 32)), // a log sequence (ClusterHistoryEndpoints.cs)
            Mode = Value("mode", 16) switch
            {
                null or "hybrid" => SearchMode.Hybrid, "bm25" => SearchMode.Bm25, "dense" => SearchMode.Dense,
                var m => throw new ArgumentException($"'mode' must be bm25, dense or hybrid, not '{m}'"),
            },
        };
        var result = await cluster.SearchAsync(request, ctx.RequestAborted);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{result.Results.Count} studies";
        return Results.Text(SearchResultJson.Serialize(result), "application/json");
    }

    public static async Task<IResult> Detail(string studyId, HttpContext ctx, ClusterClient cluster)
    {
        var study = await ClusterHistoryEndpoints.Study(studyId, ctx, cluster); // now, or as of ?as_of= (a log sequence)
        return Results.Json(Studies.StudyJson(study, RequestValues.IsResearcher(ctx.User)));
    }

    public static async Task<IResult> Slice(string studyId, int index, HttpContext ctx, ClusterClient cluster, SliceRenderer renderer) =>
        Studies.SlicePng(await Load(studyId, ctx, cluster), index, ctx, renderer);

    public static async Task<IResult> Thumbnail(string studyId, HttpContext ctx, ClusterClient cluster, SliceRenderer renderer) =>
        Studies.ThumbnailPng(await Load(studyId, ctx, cluster), ctx, renderer);

    static Task<Casebook.Model.StudyRecord> Load(string studyId, HttpContext ctx, ClusterClient cluster) => ClusterHistoryEndpoints.Study(studyId, ctx, cluster);

    public static async Task<IResult> History(string studyId, HttpContext ctx, ClusterClient cluster)
    {
        var rows = await cluster.StudyRowsAsync(RequestValues.StudyId(studyId), ctx.RequestAborted) ?? throw new ProblemException(404, "Not found", $"no study '{studyId}'");
        return Results.Json(new JsonObject { ["study_id"] = studyId, ["history"] = rows });
    }

    public static async Task<IResult> Timeline(string studyId, HttpContext ctx, ClusterClient cluster) =>
        Results.Json(await cluster.TimelineAsync(RequestValues.StudyId(studyId), ct: ctx.RequestAborted) ?? throw new ProblemException(404, "Not found", $"no study '{studyId}'"));

    public static async Task<IResult> Summaries(HttpContext ctx, ClusterClient cluster)
    {
        var ids = Timelines.SummaryIds(ctx);
        var list = new JsonArray();
        foreach (var id in ids)
        {
            var study = await cluster.GetStudyAsync(RequestValues.StudyId(id), ctx.RequestAborted);
            list.Add(study == null ? new JsonObject { ["study_id"] = id, ["missing"] = true }
                : Timelines.Summary(id, study, await cluster.OutcomesAsync(id, ctx.RequestAborted) ?? new JsonArray()));
        }
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{ids.Count} studies";
        return Results.Json(new JsonObject { ["studies"] = list });
    }

    /// <summary>Originals from the object store by content hash (a purged patient's blobs are gone from it).</summary>
    public static async Task<IResult> Blob(string sha256, HttpContext ctx, ClusterClient cluster)
    {
        Blobs.CheckName(sha256);
        if (!await cluster.Log.BlobExistsAsync(sha256, ctx.RequestAborted)) throw new ProblemException(404, "Not found", $"no blob {sha256}");
        var bytes = await cluster.Log.GetBlobAsync(sha256, ctx.RequestAborted);
        return Results.Bytes(bytes, Blobs.Sniff(bytes), fileDownloadName: sha256);
    }

    public static async Task<IResult> Versions(ClusterClient cluster, HttpContext ctx) =>
        Results.Json(new JsonObject { ["versions"] = await cluster.VersionsAsync(ctx.RequestAborted) });

    public static async Task<IResult> Similar(HttpContext ctx, ClusterClient cluster, ServerOptions o)
    {
        var r = ctx.Request;
        var limit = RequestValues.Long(r, "limit") ?? 10;
        if (limit is < 1 or > 1000) throw new ArgumentException("'limit' must be 1..1000");
        var query = new SimilarQuery(RequestValues.String(r, "study", 256), null, RequestValues.String(r, "q", o.MaxQueryTextLength), (int)limit, RequestValues.String(r, "where", o.MaxFilterLength));
        return Results.Json((await cluster.SimilarAsync(query, ctx.RequestAborted)).ToJson());
    }

    /// <summary>`stats --json` keys summed over the shards, with the researchers' small-count suppression of one node.</summary>
    public static async Task<IResult> Stats(HttpContext ctx, ClusterClient cluster)
    {
        var s = await cluster.StatsAsync(ctx.RequestAborted);
        var researcher = RequestValues.IsResearcher(ctx.User);
        JsonNode Count(string key) => Endpoints.Stats.Count(s[key]!.GetValue<long>(), researcher);
        return Results.Json(new JsonObject
        {
            ["version"] = s["version"]!.DeepClone(), ["studies"] = Count("studies"), ["segments"] = Count("segments"), ["patients"] = Count("patients"),
            ["versions"] = s["versions"]!.DeepClone(), ["blobs"] = researcher ? null : s["blobs"]!.DeepClone(),
        });
    }

    /// <summary>The MRN look-up of one node: pseudonymised with the deployment's key, answered by the patient's shard.</summary>
    public static async Task<IResult> PatientLookup(HttpContext ctx, ClusterClient cluster, ServerOptions o)
    {
        var body = await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? throw new ArgumentException("send {\"mrn\": \"…\", \"issuer\": \"…\"}");
        var mrn = body["mrn"]?.GetValue<string>()?.Trim();
        if (string.IsNullOrEmpty(mrn) || mrn.Length > 64) throw new ArgumentException("'mrn' must be 1–64 characters");
        var issuer = body["issuer"]?.GetValue<string>() ?? Casebook.Ingest.StudyManifest.DefaultIssuer;
        var keyFile = cluster.Config.KeyFile ?? o.KeyFile ?? Casebook.Ingest.PatientPseudonym.DefaultKeyFile;
        if (!File.Exists(keyFile)) throw new ProblemException(503, "Patient key unavailable", "the cluster's patient pseudonym key file is not mounted on this server");
        var pseudo = Casebook.Ingest.PatientPseudonym.Load(keyFile).Pseudonymise(issuer, mrn);
        var studies = await cluster.PatientStudiesAsync(pseudo, ctx.RequestAborted);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"patient {pseudo[..12]}…: {studies.Count} studies";
        return Results.Json(new JsonObject { ["patient_pseudo_id"] = pseudo, ["studies"] = studies });
    }

    // Clinician changes: the single node's bodies; author and role from the key or token, never from the body.
    static async Task<JsonObject> Body(HttpContext ctx) =>
        await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? throw new ArgumentException("send a JSON object body");

    static string Need(JsonObject b, string name) => b[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw new ArgumentException($"'{name}' is required");

    static string? Optional(JsonObject b, string name) => b[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static async Task<IResult> Change(string studyId, HttpContext ctx, ClusterClient cluster, string command, Func<JsonObject, JsonObject> args)
    {
        var b = await Body(ctx);
        var baseVersion = b["base_version"] is JsonValue bv && bv.TryGetValue<long>(out var n) ? n
            : throw new ArgumentException("'base_version' (an integer: the version the change started from) is required");
        var cmd = new ClusterCommand
        {
            Command = command, StudyId = RequestValues.StudyId(studyId), Author = CasebookAuth.Actor(ctx.User), Role = CasebookAuth.Role(ctx.User),
            Reason = Optional(b, "reason"), Time = ClusterCommand.NowTime(), BaseVersion = baseVersion,
            Args = new JsonObject(args(b).Where(kv => kv.Value != null).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value!.DeepClone()))),
        };
        var outcome = await cluster.ChangeAsync(cmd, ctx.RequestAborted);
        return outcome.Error switch
        {
            null => Results.Json(outcome.Ok),
            "conflict" => throw new ProblemException(409, "Conflict", outcome.Message ?? "conflict"),
            "forbidden" => throw new ProblemException(403, "Forbidden", outcome.Message ?? "forbidden"),
            "invalid" => throw new ArgumentException(outcome.Message),
            _ => throw new InvalidOperationException(outcome.Message), // as one node: an action that changes nothing is an error
        };
    }

    public static Task<IResult> Validate(string studyId, HttpContext ctx, ClusterClient cluster) =>
        Change(studyId, ctx, cluster, ClusterCommand.ValidateFinding, b => new JsonObject { ["finding"] = Need(b, "finding"), ["status"] = Need(b, "status") });

    public static Task<IResult> Diagnose(string studyId, HttpContext ctx, ClusterClient cluster) =>
        Change(studyId, ctx, cluster, ClusterCommand.Diagnose, b => new JsonObject { ["code"] = Need(b, "code"), ["system"] = Need(b, "system"), ["status"] = Need(b, "status"), ["display"] = Optional(b, "display") });

    public static Task<IResult> Region(string studyId, HttpContext ctx, ClusterClient cluster) =>
        Change(studyId, ctx, cluster, ClusterCommand.Region, b =>
        {
            var box = Need(b, "box");
            Casebook.Validation.RegionBox.Parse(box); // a bad box is refused before anything is appended
            return new JsonObject { ["slice"] = Need(b, "slice"), ["box"] = box, ["label"] = Need(b, "label") };
        });

    /// <summary>RFC 9457 problem, 501: names the endpoint and why it is not distributed yet.</summary>
    public static ProblemException NotDistributed(string endpoint, string why) =>
        new(501, "Not implemented on a cluster", $"{endpoint} is not available when serving a cluster yet: {why} (docs/server.md, \"Serving a cluster\")");

    /// <summary>A handler that answers 501 for an endpoint the cluster does not serve yet.</summary>
    public static Delegate NotYet(string endpoint, string why) => () => Results.Problem(statusCode: 501, title: "Not implemented on a cluster",
        detail: $"{endpoint} is not available when serving a cluster yet: {why} (docs/server.md, \"Serving a cluster\")");
}
