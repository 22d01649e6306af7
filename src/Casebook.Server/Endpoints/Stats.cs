using System.Text.Json.Nodes;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

public static class Stats
{
    /// <summary>
    /// Same fields as `casebook stats --json`. For researchers, counts of people and their records under 11 become the
    /// string "&lt;11" (small-cell suppression), so a count cannot single out a patient.
    /// </summary>
    internal static IResult Get(HttpContext ctx, CasebookDb db)
    {
        var s = db.Stats();
        var researcher = RequestValues.IsResearcher(ctx.User);
        return Results.Json(new JsonObject
        {
            ["version"] = s.Version, ["studies"] = Count(s.Studies, researcher), ["segments"] = Count(s.Segments, researcher),
            ["patients"] = Count(s.Patients, researcher),
            ["versions"] = s.Versions, ["blobs"] = researcher ? null : s.Blobs,
        });
    }

    /// <summary>A count as shown to the caller: researchers see counts under 11 as "&lt;11".</summary>
    public static JsonNode Count(long n, bool researcher) =>
        researcher && n < Roles.SmallCountThreshold ? JsonValue.Create($"<{Roles.SmallCountThreshold}") : JsonValue.Create(n);
}
