using System.Text.Json.Nodes;
using Casebook.Search;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>
/// A study's timeline and outcomes (the `timeline --json` contract), and the per-result extras the search page shows beside
/// each hit: codes, whether a clinician validated it, and an outcome summary. The extras are a separate call so that
/// <c>GET /api/search</c> stays byte for byte what `search --json` prints.
/// </summary>
static class Timelines
{
    /// <summary>Most study ids one summaries call takes (a page of results is at most the search limit, 100).</summary>
    public const int MaxSummaryStudies = 100;

    /// <summary>Outcome items listed per study in a summary (the counts per kind cover all of them).</summary>
    const int SummaryItems = 4;

    public static IResult Study(string studyId, CasebookDb db)
    {
        var t = db.Timeline(RequestValues.StudyId(studyId)) ?? throw new ProblemException(404, "Not found", $"no study '{studyId}'");
        return Results.Json(t.ToJson());
    }

    /// <summary>GET /api/search/summaries?study=A&amp;study=B…: per study its codes, validated flag and outcome summary, in the order asked.</summary>
    public static IResult Summaries(HttpContext ctx, CasebookDb db)
    {
        var ids = SummaryIds(ctx);
        var list = new JsonArray();
        foreach (var id in ids)
        {
            var study = db.GetStudy(RequestValues.StudyId(id), withSegments: false);
            list.Add(study == null ? new JsonObject { ["study_id"] = id, ["missing"] = true } : Summary(id, study, SimilarCases.OutcomesOf(db, id)));
        }
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{ids.Count} studies";
        return Results.Json(new JsonObject { ["studies"] = list });
    }

    internal static List<string> SummaryIds(HttpContext ctx)
    {
        var ids = ctx.Request.Query["study"].Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).Distinct().ToList();
        if (ids.Count == 0) throw new ArgumentException("give at least one 'study' (a study id; repeat the parameter for more)");
        if (ids.Count > MaxSummaryStudies) throw new ArgumentException($"'study' given {ids.Count} times; the limit is {MaxSummaryStudies}");
        return ids;
    }

    /// <summary>One study's summary: its codes, whether a clinician validated it, and its outcomes counted per kind.</summary>
    internal static JsonObject Summary(string id, Casebook.Model.StudyRecord study, JsonArray outcomes)
    {
        var validated = study.PathologyFindings.OfType<JsonObject>().Any(f => f["validated"] is JsonValue v && v.TryGetValue<bool>(out var b) && b)
                        || study.Metadata["diagnoses"] is JsonArray { Count: > 0 };
        var kinds = new JsonObject();
        foreach (var g in outcomes.OfType<JsonObject>().GroupBy(o => o["kind"]?.GetValue<string>() ?? "other"))
            kinds[g.Key] = g.Count();
        return new JsonObject
        {
            ["study_id"] = id,
            ["clinical_codes"] = new JsonArray(study.ClinicalCodes.Select(c => (JsonNode)c).ToArray()),
            ["validated"] = validated,
            ["outcomes"] = new JsonObject
            {
                ["total"] = outcomes.Count,
                ["kinds"] = kinds,
                ["items"] = new JsonArray(outcomes.OfType<JsonObject>().Take(SummaryItems).Select(o => (JsonNode)new JsonObject
                {
                    ["kind"] = o["kind"]?.DeepClone(), ["origin"] = o["origin"]?.DeepClone(),
                    ["text"] = o["text"]?.DeepClone() ?? (o["display"] ?? o["code"])?.DeepClone(),
                    ["days_after"] = o["days_after"]?.DeepClone(), ["status"] = o["status"]?.DeepClone(),
                }).ToArray()),
            },
        };
    }
}
