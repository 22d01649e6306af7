using System.Text;
using Casebook.Cohorts;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>Cohort runs over HTTP (docs/cohorts.md): the body is a definition; the caller's role decides suppression.</summary>
static class Cohorts
{
    const int MaxDefinitionBytes = 256 * 1024;

    /// <summary>POST /api/cohorts/run[?as_of=V] with a definition (JSON) → the `cohort run --json` object for the caller's role.</summary>
    public static async Task<IResult> Run(HttpContext ctx, CasebookDb db)
    {
        var asOf = RequestValues.Long(ctx.Request, "as_of");
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        var buffer = new char[MaxDefinitionBytes + 1];
        var n = await reader.ReadBlockAsync(buffer, 0, buffer.Length);
        if (n > MaxDefinitionBytes) throw new ProblemException(413, "Payload Too Large", $"a cohort definition is at most {MaxDefinitionBytes} bytes");
        var definition = CohortDefinition.Parse(new string(buffer, 0, n)); // CohortDefinitionException is an ArgumentException: 400 naming the field
        var role = CohortRoles.Check(CasebookAuth.Role(ctx.User));
        var result = db.RunCohort(definition, asOf);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"cohort {definition.Name ?? "(unnamed)"} at version {result.AsOf}";
        return Results.Json(CohortResultJson.ToJson(result, role));
    }
}
