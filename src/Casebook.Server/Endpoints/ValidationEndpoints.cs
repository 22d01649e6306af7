using System.Text.Json.Nodes;
using Casebook.Search;
using Casebook.Server.Security;
using Casebook.Validation;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>
/// Clinician validation over HTTP (docs/validation.md): the same engine calls as `validate`, `diagnose` and `region`, with the
/// author and role taken from the authenticated key or token (never from the body), a stale base_version answered 409 with the
/// current version, and similar cases (`similar --json` contract).
/// </summary>
static class ValidationEndpoints
{
    static async Task<JsonObject> Body(HttpContext ctx) =>
        await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? throw new ArgumentException("send a JSON object body");

    static string Need(JsonObject b, string name) => b[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw new ArgumentException($"'{name}' is required");

    static long BaseVersion(JsonObject b) => b["base_version"] is JsonValue v && v.TryGetValue<long>(out var n) ? n
        : throw new ArgumentException("'base_version' (an integer: the version the change started from) is required");

    static Attribution Who(HttpContext ctx, JsonObject b) =>
        new(CasebookAuth.Actor(ctx.User), CasebookAuth.Role(ctx.User), b["reason"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null);

    static IResult Commit(Func<ValidationResult> action)
    {
        try
        {
            var r = action();
            return Results.Json(new JsonObject { ["study_id"] = r.StudyId, ["version"] = r.Version, ["action"] = r.Action, ["change"] = r.Change.DeepClone() });
        }
        catch (ValidationConflictException e) { throw new ProblemException(409, "Conflict", e.Message); }
        catch (UnauthorizedAccessException e) { throw new ProblemException(403, "Forbidden", e.Message); }
    }

    public static async Task<IResult> Validate(string studyId, HttpContext ctx, CasebookDb db)
    {
        var b = await Body(ctx);
        return Commit(() => db.ValidateFinding(RequestValues.StudyId(studyId), Need(b, "finding"), Need(b, "status"), Who(ctx, b), BaseVersion(b)));
    }

    public static async Task<IResult> Diagnose(string studyId, HttpContext ctx, CasebookDb db)
    {
        var b = await Body(ctx);
        var display = b["display"] is JsonValue d && d.TryGetValue<string>(out var s) ? s : null;
        return Commit(() => db.SetDiagnosis(RequestValues.StudyId(studyId), Need(b, "code"), Need(b, "system"), Need(b, "status"), Who(ctx, b), BaseVersion(b), display));
    }

    public static async Task<IResult> Region(string studyId, HttpContext ctx, CasebookDb db)
    {
        var b = await Body(ctx);
        return Commit(() => db.AddRegion(RequestValues.StudyId(studyId), Need(b, "slice"), RegionBox.Parse(Need(b, "box")), Need(b, "label"), Who(ctx, b), BaseVersion(b)));
    }

    /// <summary>GET /api/similar?study=ID | ?q=TEXT [&amp;limit=N][&amp;where=F]: the `casebook similar --json` contract.</summary>
    public static IResult Similar(HttpContext ctx, CasebookDb db, ServerOptions o)
    {
        var r = ctx.Request;
        var study = RequestValues.String(r, "study", 256);
        var text = RequestValues.String(r, "q", o.MaxQueryTextLength);
        var limit = RequestValues.Long(r, "limit") ?? 10;
        if (limit is < 1 or > 1000) throw new ArgumentException("'limit' must be 1..1000");
        var result = db.Similar(new SimilarQuery(study, null, text, (int)limit, RequestValues.String(r, "where", o.MaxFilterLength)));
        return Results.Json(result.ToJson());
    }
}
