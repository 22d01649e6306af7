using System.Text.Json.Nodes;
using Casebook.Server.Security;
using Microsoft.AspNetCore.Http;

namespace Casebook.Server.Endpoints;

static class Auth
{
    /// <summary>
    /// Login: an API key buys a short-lived JWT with the key's role (the search page keeps only the token). Audited as
    /// "login" with its outcome; a token cannot buy another token.
    /// </summary>
    public static IResult IssueToken(HttpContext ctx, TokenSigningKey key, ServerOptions o)
    {
        if (ctx.User.FindFirst("auth")?.Value != "api-key") throw new ProblemException(403, "Forbidden", "a token is bought with an API key, not with another token");
        var subject = CasebookAuth.Actor(ctx.User);
        var role = CasebookAuth.Role(ctx.User);
        var token = CasebookAuth.IssueToken(key.Key, subject, role, o.TokenLifetime);
        return Results.Json(new JsonObject
        {
            ["access_token"] = token, ["token_type"] = "Bearer", ["expires_in"] = (long)o.TokenLifetime.TotalSeconds, ["role"] = role, ["subject"] = subject,
        });
    }

    public static async Task<IResult> CreateKey(HttpContext ctx, ApiKeyStore keys)
    {
        var body = await ctx.Request.ReadFromJsonAsync<JsonObject>(ctx.RequestAborted) ?? throw new ArgumentException("send {\"role\": \"clinician|researcher|validator|admin\", \"label\": \"…\"}");
        var role = body["role"]?.GetValue<string>() ?? throw new ArgumentException("'role' is required");
        var label = body["label"]?.GetValue<string>();
        if (label is { Length: > 200 }) throw new ArgumentException("'label' is limited to 200 characters");
        var (id, key) = keys.Create(role, label);
        ctx.Items[Audit.AuditMiddleware.DetailKey] = $"key {id} ({role})";
        return Results.Json(new JsonObject { ["key_id"] = id, ["role"] = role, ["key"] = key }, statusCode: 201);
    }

    public static IResult ListKeys(ApiKeyStore keys) => Results.Json(new JsonObject
    {
        ["keys"] = new JsonArray(keys.List().Select(k => (JsonNode)new JsonObject
            { ["key_id"] = k.KeyId, ["role"] = k.Role, ["label"] = k.Label, ["created"] = k.Created, ["revoked"] = k.Revoked }).ToArray()),
    });
}
