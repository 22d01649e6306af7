using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Audit;

/// <summary>Marks an endpoint whose every call is audited under <see cref="Action"/>.</summary>
public sealed record AuditedAttribute(string Action);

/// <summary>
/// Records every call of an audited endpoint — allowed, refused (401/403/429) or failed — as it answers: who, role, what
/// (path and query), from where, and the outcome. Runs before authorization, so refusals are recorded too.
/// Endpoints may add a detail (result count, job id) in <c>HttpContext.Items["audit.detail"]</c>.
/// </summary>
public sealed class AuditMiddleware(RequestDelegate next, AuditLog audit)
{
    public const string DetailKey = "audit.detail";

    public async Task InvokeAsync(HttpContext ctx)
    {
        var action = ctx.GetEndpoint()?.Metadata.GetMetadata<AuditedAttribute>()?.Action;
        if (action == null) { await next(ctx); return; }
        // Recorded as the response starts, so no byte of an answer leaves before its entry is written (and a client that
        // has its answer can read the entry); once only, whether the response or an exception comes first.
        var recorded = 0;
        void RecordOnce(int status)
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0) Record(ctx, action, Outcome(status));
        }
        ctx.Response.OnStarting(() => { RecordOnce(ctx.Response.StatusCode); return Task.CompletedTask; });
        try
        {
            await next(ctx);
        }
        catch (Exception e)
        {
            ctx.Items[DetailKey] ??= e.Message;
            RecordOnce(ProblemExceptionHandler.Classify(e).Status);
            throw;
        }
    }

    void Record(HttpContext ctx, string action, string outcome) =>
        audit.Append(CasebookAuth.Actor(ctx.User), CasebookAuth.Role(ctx.User), action, ctx.Request.Path + ctx.Request.QueryString,
            CasebookAuth.Remote(ctx), outcome, ctx.Items.TryGetValue(DetailKey, out var d) ? d?.ToString() : null);

    static string Outcome(int status) => status switch
    {
        < 400 => "success",
        401 => "unauthenticated",
        403 => "forbidden",
        429 => "rate-limited",
        < 500 => $"rejected ({status})",
        _ => $"error ({status})",
    };
}
