using System.Text;
using Casebook.Cluster;
using Casebook.Cohorts;
using Casebook.Server.Endpoints;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;
using System.Net.Http.Json;

namespace Casebook.Server.Cluster;

/// <summary>Cohort runs of `serve --cluster`: the single node's request, roles, errors and JSON; the run scatters over the shards.</summary>
static class ClusterCohortEndpoints
{
    const int MaxDefinitionBytes = 256 * 1024;

    /// <summary>POST /api/cohorts/run[?as_of=S] with a definition (JSON) → the `cohort run --json` object for the caller's role. The
    /// version (?as_of, else the definition's "as_of") is a log sequence, and "as_of" in the answer is it (now: the log's last).</summary>
    public static async Task<IResult> Run(HttpContext ctx, ClusterClient cluster)
    {
        var asOf = RequestValues.Long(ctx.Request, "as_of");
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var buffer = new char[MaxDefinitionBytes + 1];
        var n = await reader.ReadBlockAsync(buffer, 0, buffer.Length);
        if (n > MaxDefinitionBytes) throw new ProblemException(413, "Payload Too Large", $"a cohort definition is at most {MaxDefinitionBytes} bytes");
        var definition = CohortDefinition.Parse(new string(buffer, 0, n)); // an ArgumentException: 400 naming the field, as one node
        var role = CohortRoles.Check(CasebookAuth.Role(ctx.User));
        var result = await cluster.RunCohortAsync(definition, asOf: asOf, ct: ctx.RequestAborted);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"cohort {definition.Name ?? "(unnamed)"} at log sequence {result.AsOf}";
        return Results.Json(CohortResultJson.ToJson(result, role));
    }
}

/// <summary>Finding classifiers in `serve --cluster` (docs/findings.md): the single node's requests and JSON, over the cluster's registry and log.</summary>
static class ClusterFindingsEndpoints
{
    static async Task<System.Text.Json.Nodes.JsonObject> OptionalBody(HttpContext ctx) =>
        ctx.Request.ContentLength is null or 0 && !ctx.Request.HasJsonContentType() ? new System.Text.Json.Nodes.JsonObject()
        : await ctx.Request.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(ctx.RequestAborted) ?? new System.Text.Json.Nodes.JsonObject();

    static T? Value<T>(System.Text.Json.Nodes.JsonObject b, string name) where T : struct =>
        b[name] is null ? null : b[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<T>(out var x) ? x : throw new ArgumentException($"'{name}' must be a {typeof(T).Name.ToLowerInvariant()}");

    /// <summary>GET /api/findings/models[?all=true] → <c>{"models":[...]}</c> from the cluster's registry.</summary>
    public static async Task<IResult> Models(HttpContext ctx, ClusterClient cluster) =>
        Results.Json(new System.Text.Json.Nodes.JsonObject
        {
            ["models"] = new System.Text.Json.Nodes.JsonArray((await cluster.FindingModelsAsync(RequestValues.Flag(ctx.Request, "all"), ctx.RequestAborted))
                .Select(m => (System.Text.Json.Nodes.JsonNode)m.ToJson()).ToArray()),
        });

    /// <summary>POST /api/findings/train {min_examples, trainer, labels, explicit_negatives_only}: on the coordinator, examples from every shard.</summary>
    public static async Task<IResult> Train(HttpContext ctx, ClusterClient cluster)
    {
        var b = await OptionalBody(ctx);
        var trainer = b["trainer"]?.GetValue<string>() switch
        {
            null or "lr" => Casebook.Findings.FindingTrainer.LogisticRegression,
            "lightgbm" => Casebook.Findings.FindingTrainer.LightGbm,
            var t => throw new ArgumentException($"'trainer' '{t}': expected lr or lightgbm"),
        };
        var labels = b["labels"] is System.Text.Json.Nodes.JsonArray a ? a.Select(x => x?.GetValue<string>() ?? throw new ArgumentException("'labels' holds a null")).ToList() : null;
        var r = await cluster.TrainFindingModelsAsync(new Casebook.Findings.FindingTrainOptions
        {
            MinExamples = Value<int>(b, "min_examples") ?? 5, ImplicitNegatives = !(Value<bool>(b, "explicit_negatives_only") ?? false),
            Classifier = new Casebook.Findings.ClassifierOptions { Trainer = trainer }, Labels = labels,
        }, ctx.RequestAborted);
        return Results.Json(new System.Text.Json.Nodes.JsonObject { ["version"] = r.Version, ["labels"] = new System.Text.Json.Nodes.JsonArray(r.Reports.Select(x => (System.Text.Json.Nodes.JsonNode)x.ToJson()).ToArray()) });
    }

    /// <summary>POST /api/findings/suggest {study, min_probability}: through the log to the owning shards; the caller is the author.</summary>
    public static async Task<IResult> Suggest(HttpContext ctx, ClusterClient cluster)
    {
        var b = await OptionalBody(ctx);
        var study = b["study"]?.GetValue<string>();
        var actor = CasebookAuth.Actor(ctx.User);
        var result = await cluster.SuggestFindingsAsync(new Casebook.Findings.FindingSuggestOptions
        {
            StudyId = study == null ? null : RequestValues.StudyId(study), MinProbability = Value<double>(b, "min_probability") ?? 0.5, Author = actor,
        }, actor, ctx.RequestAborted);
        return Results.Json(result.ToJson());
    }
}
