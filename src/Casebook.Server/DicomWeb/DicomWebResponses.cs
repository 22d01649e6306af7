using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.DicomWeb;

/// <summary>What every DICOMweb answer shares: media types, UID checks in paths, the service's base URL, multipart/related writing.</summary>
static class DicomWebResponses
{
    public const string DicomJsonType = "application/dicom+json";
    public const string DicomType = "application/dicom";

    /// <summary>PS3.5 §9.1: a UID is 1–64 characters of digits and dots. Anything else in a path is refused by name (never a file path).</summary>
    public static string Uid(string uid, string what)
    {
        if (uid.Length is 0 or > 64 || uid.Any(c => !(char.IsAsciiDigit(c) || c == '.')))
            throw new ArgumentException($"the {what} UID in the path must be 1–64 digits and dots (PS3.5 §9.1)");
        return uid;
    }

    public static string BaseUrl(HttpRequest r) => $"{r.Scheme}://{r.Host}{r.PathBase}/dicomweb";

    static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ToJson(JsonNode body) => body.ToJsonString(Relaxed);

    public static IResult DicomJson(JsonNode body, int status = 200) => Results.Text(ToJson(body), DicomJsonType, Encoding.UTF8, status);

    /// <summary>PS3.18 §8.7.3: answers are DICOM JSON; an Accept that admits no JSON (and no wildcard) is 406.</summary>
    public static void RequireJsonAccept(HttpRequest r)
    {
        var accept = r.Headers.Accept.ToString();
        if (accept.Length == 0 || accept.Contains("json", StringComparison.OrdinalIgnoreCase) || accept.Contains("*/*")
            || accept.Contains("application/*", StringComparison.OrdinalIgnoreCase)) return;
        throw new ProblemException(406, "Not acceptable", $"this resource is available as {DicomJsonType}, not '{accept}'");
    }

    /// <summary>
    /// Writes instances as one multipart/related body (RFC 2387, PS3.18 §8.6.1.2): each part is a Part 10 instance with its
    /// own Content-Type carrying the stored transfer syntax. Each is opened only while it is written (a blob file on one
    /// node, an object-store read on a cluster); one that has gone since the caller checked is left out.
    /// </summary>
    public static async Task WriteMultipartAsync(HttpContext ctx, IReadOnlyList<(Func<CancellationToken, Task<Stream?>> Open, string TransferSyntax)> parts)
    {
        var boundary = "casebook-" + Guid.NewGuid().ToString("N");
        var res = ctx.Response;
        res.StatusCode = 200;
        res.ContentType = $"multipart/related; type=\"{DicomType}\"; boundary={boundary}";
        var body = res.Body;
        foreach (var (open, ts) in parts)
        {
            await using var file = await open(ctx.RequestAborted);
            if (file == null) continue;
            var head = Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: {DicomType}; transfer-syntax={ts}\r\nContent-Length: {file.Length}\r\n\r\n");
            await body.WriteAsync(head, ctx.RequestAborted);
            await file.CopyToAsync(body, ctx.RequestAborted);
            await body.WriteAsync("\r\n"u8.ToArray(), ctx.RequestAborted);
        }
        await body.WriteAsync(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"), ctx.RequestAborted);
    }
}
