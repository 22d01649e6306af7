using System.Text.Json.Nodes;
using Casebook.Findings;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>
/// Findings learned from clinicians over HTTP (docs/findings.md): the same engine calls and JSON as `findings models`,
/// `findings train` and `findings suggest`. Training and suggesting write (models, AI-suggested findings), so they are for
/// admins; the model list is for the clinical roles.
/// </summary>
static class FindingsEndpoints
{
    static async Task<JsonObject> OptionalBody(HttpContext ctx) =>
        ctx.Request.ContentLength is null or 0 && !ctx.Request.HasJsonContentType() ? new JsonObject()
        : await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? new JsonObject();

    static T? Value<T>(JsonObject b, string name) where T : struct =>
        b[name] is null ? null : b[name] is JsonValue v && v.TryGetValue<T>(out var x) ? x : throw new ArgumentException($"'{name}' must be a {typeof(T).Name.ToLowerInvariant()}");

    /// <summary>GET /api/findings/models[?all=true] → <c>{"models":[...]}</c>.</summary>
    public static IResult Models(HttpContext ctx, CasebookDb db) =>
        Results.Json(new JsonObject { ["models"] = new JsonArray(db.FindingModels(RequestValues.Flag(ctx.Request, "all")).Select(m => (JsonNode)m.ToJson()).ToArray()) });

    /// <summary>POST /api/findings/train {min_examples, trainer: "lr"|"lightgbm", labels: [...], explicit_negatives_only} → the train contract.</summary>
    public static async Task<IResult> Train(HttpContext ctx, CasebookDb db)
    {
        var b = await OptionalBody(ctx);
        var trainer = b["trainer"]?.GetValue<string>() switch
        {
            null or "lr" => FindingTrainer.LogisticRegression,
            "lightgbm" => FindingTrainer.LightGbm,
            var t => throw new ArgumentException($"'trainer' '{t}': expected lr or lightgbm"),
        };
        var labels = b["labels"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? throw new ArgumentException("'labels' holds a null")).ToList() : null;
        var version = db.CurrentVersion;
        var reports = db.TrainFindingModels(new FindingTrainOptions
        {
            MinExamples = Value<int>(b, "min_examples") ?? 5, ImplicitNegatives = !(Value<bool>(b, "explicit_negatives_only") ?? false),
            Classifier = new ClassifierOptions { Trainer = trainer }, Labels = labels,
        });
        return Results.Json(new JsonObject { ["version"] = version, ["labels"] = new JsonArray(reports.Select(r => (JsonNode)r.ToJson()).ToArray()) });
    }

    /// <summary>POST /api/findings/suggest {study, min_probability} → the suggest contract; the caller is the versions' author.</summary>
    public static async Task<IResult> Suggest(HttpContext ctx, CasebookDb db)
    {
        var b = await OptionalBody(ctx);
        var study = b["study"]?.GetValue<string>();
        var result = db.SuggestFindings(new FindingSuggestOptions
        {
            StudyId = study == null ? null : RequestValues.StudyId(study), MinProbability = Value<double>(b, "min_probability") ?? 0.5,
            Author = CasebookAuth.Actor(ctx.User),
        });
        return Results.Json(result.ToJson());
    }
}
