using System.Security.Claims;
using System.Security.Cryptography;
using Casebook.Server.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Casebook.Server.Security;

/// <summary>
/// Authentication wiring: one bearer header carries either an API key (<c>cbk_…</c>) or a JWT; a policy scheme sends each
/// to its handler. JWTs are HMAC-SHA256, issuer "casebook", audience "casebook-api", signed with the configured key.
/// </summary>
public static class CasebookAuth
{
    public const string PolicyScheme = "Casebook";
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";
    public const string Issuer = "casebook";
    public const string Audience = "casebook-api";

    /// <summary>The credential in <c>Authorization: Bearer X</c> or <c>X-Api-Key: X</c>, if any.</summary>
    public static string? PresentedCredential(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        var apiKey = request.Headers["X-Api-Key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }

    public static string Remote(HttpContext c) => c.Connection.RemoteIpAddress?.ToString() ?? "local";
    public static string Actor(ClaimsPrincipal u) => u.FindFirst(SubjectClaim)?.Value ?? "anonymous";
    public static string Role(ClaimsPrincipal u) => u.FindFirst(RoleClaim)?.Value ?? "-";

    public static void Add(IServiceCollection services, byte[] signingKey)
    {
        var key = new SymmetricSecurityKey(signingKey);
        services.AddAuthentication(PolicyScheme)
            .AddPolicyScheme(PolicyScheme, "API key or JWT", o => o.ForwardDefaultSelector = ctx =>
                PresentedCredential(ctx.Request) is { } cred && !cred.StartsWith("cbk_", StringComparison.Ordinal) && cred.Count(ch => ch == '.') == 2
                    ? JwtBearerDefaults.AuthenticationScheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = Issuer, ValidAudience = Audience, IssuerSigningKey = key,
                    ValidateIssuer = true, ValidateAudience = true, ValidateLifetime = true, ValidateIssuerSigningKey = true,
                    RequireExpirationTime = true, RequireSignedTokens = true, ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ClockSkew = TimeSpan.FromSeconds(30), NameClaimType = SubjectClaim, RoleClaimType = RoleClaim,
                };
                o.Events = new JwtBearerEvents
                {
                    // A presented token that fails (expired, forged, wrong audience) is a failed login: audit it.
                    OnAuthenticationFailed = ctx =>
                    {
                        var audit = ctx.HttpContext.RequestServices.GetRequiredService<AuditLog>();
                        var reason = ctx.Exception switch
                        {
                            SecurityTokenExpiredException => "expired token",
                            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "bad token signature",
                            _ => "invalid token: " + ctx.Exception.GetType().Name,
                        };
                        audit.Append("anonymous", "-", "login", ctx.Request.Path, Remote(ctx.HttpContext), "failure", reason);
                        return Task.CompletedTask;
                    },
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.Policies.AnyRole, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.All))
            .AddPolicy(Roles.Policies.Originals, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.Clinician, Roles.Validator, Roles.Admin))
            .AddPolicy(Roles.Policies.ClinicalLookup, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.Clinician, Roles.Admin))
            .AddPolicy(Roles.Policies.Export, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.Researcher, Roles.Admin))
            .AddPolicy(Roles.Policies.Admin, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.Admin))
            .AddPolicy(Roles.Policies.Validation, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, Roles.Clinician, Roles.Validator, Roles.Admin));
    }

    /// <summary>A signed token for <paramref name="subject"/> with <paramref name="role"/>, valid for <paramref name="lifetime"/>.</summary>
    public static string IssueToken(byte[] signingKey, string subject, string role, TimeSpan lifetime, DateTime? now = null)
    {
        var t = now ?? DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer, Audience = Audience,
            Claims = new Dictionary<string, object> { [SubjectClaim] = subject, [RoleClaim] = role },
            NotBefore = t.AddSeconds(-1), IssuedAt = t, Expires = t + lifetime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(signingKey), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>
    /// The JWT signing key: the file given, else $CASEBOOK_JWT_KEY_FILE, else &lt;db&gt;/server/jwt-signing.key (made on first use,
    /// 32 random bytes, mode 600). Tokens from one server are valid on another only when both use the same key.
    /// </summary>
    public static byte[] LoadSigningKey(string? keyFile, string dbDirectory)
    {
        keyFile ??= Environment.GetEnvironmentVariable("CASEBOOK_JWT_KEY_FILE") is { Length: > 0 } f ? f : Path.Combine(dbDirectory, "server", "jwt-signing.key");
        if (!File.Exists(keyFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
            using var fs = new FileStream(keyFile, FileMode.CreateNew, FileAccess.Write);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            fs.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n"));
        }
        var text = File.ReadAllText(keyFile).Trim();
        byte[] key;
        try { key = Convert.FromHexString(text); }
        catch (FormatException) { throw new InvalidDataException($"JWT key file '{keyFile}' does not hold a hex key"); }
        if (key.Length < 32) throw new InvalidDataException($"JWT key file '{keyFile}' holds {key.Length} bytes; HMAC-SHA256 needs at least 32");
        return key;
    }
}
