using Casebook.Search.Filtering;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Casebook.Server;

/// <summary>
/// Turns exceptions into RFC 9457 problem details: the caller's mistakes (bad filter, bad argument, unreadable upload,
/// too large) are 4xx with the reason; anything else is a 500 that names no internals.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public static (int Status, string Title) Classify(Exception e) => e switch
    {
        FilterSyntaxException => (400, "Invalid filter"),
        BadHttpRequestException b => (b.StatusCode, b.StatusCode == 413 ? "Request too large" : "Bad request"),
        ProblemException p => (p.Status, p.Title),
        FileNotFoundException or KeyNotFoundException => (404, "Not found"),
        System.Text.Json.JsonException => (400, "Malformed JSON"),
        ArgumentException or FormatException or InvalidDataException or NotSupportedException => (400, "Bad request"),
        OperationCanceledException => (499, "Client closed request"),
        _ => (500, "Internal server error"),
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext ctx, Exception e, CancellationToken ct)
    {
        var (status, title) = Classify(e);
        if (status >= 500) log.LogError(e, "unhandled error on {Path}", ctx.Request.Path);
        if (ctx.Response.HasStarted) return false;
        ctx.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = ctx, Exception = e,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = status >= 500 ? "the server could not complete the request" : e.Message },
        });
    }
}

/// <summary>A failure the endpoint wants answered as a specific status with a reason (404 for an unknown study, 413, …).</summary>
public sealed class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}
