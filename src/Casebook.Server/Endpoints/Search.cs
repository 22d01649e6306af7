using Casebook.Search;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

/// <summary>Search by text (GET, the `casebook search --json` contract) and by image (POST multipart).</summary>
static class Search
{
    public static IResult Text(HttpContext ctx, CasebookDb db, ServerOptions o)
    {
        var r = ctx.Request;
        var q = RequestValues.String(r, "q", o.MaxQueryTextLength) ?? throw new ArgumentException("'q' (the search text) is required; search by image with POST /api/search/image");
        return Run(ctx, db.Search(q, null), r, o);
    }

    public static async Task<IResult> Image(HttpContext ctx, CasebookDb db, ServerOptions o)
    {
        var (bytes, text, form) = await ReadImageQueryAsync(ctx, o);
        return Run(ctx, db.Search(text, bytes), ctx.Request, o, form);
    }

    /// <summary>The multipart image query: the picture (field 'image', size-limited) and optional text 'q'.</summary>
    internal static async Task<(byte[] Image, string? Text, IFormCollection Form)> ReadImageQueryAsync(HttpContext ctx, ServerOptions o)
    {
        var r = ctx.Request;
        if (!r.HasFormContentType) throw new ArgumentException("send the image as multipart/form-data in a field named 'image'");
        var form = await RequestValues.ReadFormAsync(r);
        var file = form.Files.GetFile("image") ?? throw new ArgumentException("multipart field 'image' (the image or DICOM file) is missing");
        if (file.Length == 0) throw new ArgumentException($"'image' ({file.FileName}) is empty");
        if (file.Length > o.MaxImageQueryBytes) throw new ProblemException(413, "Request too large", $"'image' is {file.Length} bytes; the limit is {o.MaxImageQueryBytes}");
        var bytes = new byte[file.Length];
        await using (var s = file.OpenReadStream()) await s.ReadExactlyAsync(bytes, ctx.RequestAborted);
        var text = form["q"].ToString();
        if (text.Length > o.MaxQueryTextLength) throw new ArgumentException($"'q' is {text.Length} characters; the limit is {o.MaxQueryTextLength}");
        return (bytes, text.Length > 0 ? text : null, form);
    }

    /// <summary>A search option from the form (image search) or else the query string.</summary>
    internal static string? Value(HttpRequest r, IFormCollection? form, string name, int max)
    {
        if (form == null || !form.TryGetValue(name, out var v) || v.Count == 0 || string.IsNullOrEmpty(v[0])) return RequestValues.String(r, name, max);
        return v[0]!.Length <= max ? v[0] : throw new ArgumentException($"'{name}' is {v[0]!.Length} characters; the limit is {max}");
    }

    static IResult Run(HttpContext ctx, SearchQuery query, HttpRequest r, ServerOptions o, IFormCollection? form = null)
    {
        // Image search takes its options from the form or the query string; text search from the query string.
        string? Value(string name, int max) => Search.Value(r, form, name, max);
        if (Value("where", o.MaxFilterLength) is { } where) query.Where(where);
        if (Value("mode", 16) is { } mode)
            query.Mode(mode switch
            {
                "bm25" => SearchMode.Bm25, "dense" => SearchMode.Dense, "hybrid" => SearchMode.Hybrid,
                _ => throw new ArgumentException($"'mode' must be bm25, dense or hybrid, not '{mode}'"),
            });
        if (Value("limit", 16) is { } limitText)
        {
            if (!int.TryParse(limitText, out var limit) || limit < 1 || limit > o.MaxSearchLimit)
                throw new ArgumentException($"'limit' must be an integer from 1 to {o.MaxSearchLimit}, not '{limitText}'");
            query.Limit(limit);
        }
        if (Value("as_of", 32) is { } asOfText)
            query.AsOf(long.TryParse(asOfText, out var asOf) ? asOf : throw new ArgumentException($"'as_of' must be a version number, not '{asOfText}'"));
        if (Value("exact", 8) is "true" or "1") query.Exact();
        var result = query.Execute();
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"{result.Results.Count} studies";
        // The exact bytes `casebook search --json` prints (without its newline): one shared writer.
        return Results.Text(SearchResultJson.Serialize(result), "application/json");
    }
}
