using System.Text.Json.Nodes;
using Casebook.Server.Audit;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

static class AuditEndpoints
{
    /// <summary>Entries after ?after=SEQ (at most ?limit=N, default 1000) and, with ?verify=true, the whole chain's check.</summary>
    public static IResult Read(HttpContext ctx, AuditLog audit)
    {
        var after = RequestValues.Long(ctx.Request, "after") ?? 0;
        var limit = RequestValues.Long(ctx.Request, "limit") ?? 1000;
        if (limit is < 1 or > 100_000) throw new ArgumentException("'limit' must be 1..100000");
        var verify = RequestValues.Flag(ctx.Request, "verify");
        return Results.Json(AuditJson.ToJson(audit.Read(after, (int)limit), verify ? audit.Verify() : null));
    }
}
