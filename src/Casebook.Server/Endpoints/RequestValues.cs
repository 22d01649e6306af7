using System.Globalization;
using System.Security.Claims;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>Query-string values parsed with errors that name the parameter and the reason (answered as 400 problem details).</summary>
static class RequestValues
{
    public static string? String(HttpRequest r, string name, int maxLength)
    {
        var values = r.Query[name];
        if (values.Count > 1) throw new ArgumentException($"'{name}' given {values.Count} times; give it once");
        var v = values.Count == 1 ? values[0] : null;
        if (v != null && v.Length > maxLength) throw new ArgumentException($"'{name}' is {v.Length} characters; the limit is {maxLength}");
        return string.IsNullOrEmpty(v) ? null : v;
    }

    public static long? Long(HttpRequest r, string name)
    {
        var v = String(r, name, 32);
        if (v == null) return null;
        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"'{name}' must be an integer, not '{v}'");
    }

    public static bool Flag(HttpRequest r, string name)
    {
        var v = String(r, name, 8);
        return v switch
        {
            null or "false" or "0" => false,
            "true" or "1" or "" => true,
            _ => throw new ArgumentException($"'{name}' must be true or false, not '{v}'"),
        };
    }

    /// <summary>A study id from the path: at most 256 characters, no control characters (it is only ever a bound SQL value).</summary>
    public static string StudyId(string id)
    {
        if (id.Length is 0 or > 256 || id.Any(char.IsControl)) throw new ArgumentException("the study id must be 1–256 printable characters");
        return id;
    }

    /// <summary>Reads a multipart form; a body that is not valid multipart is the caller's error (400), not the server's.</summary>
    public static async Task<IFormCollection> ReadFormAsync(HttpRequest r)
    {
        try { return await r.ReadFormAsync(r.HttpContext.RequestAborted); }
        catch (Exception e) when (e is IOException or InvalidDataException && e is not BadHttpRequestException)
        {
            throw new ProblemException(400, "Malformed upload", $"the multipart body could not be read: {e.Message}");
        }
    }

    public static bool IsResearcher(ClaimsPrincipal u) => CasebookAuth.Role(u) == Roles.Researcher;
}
