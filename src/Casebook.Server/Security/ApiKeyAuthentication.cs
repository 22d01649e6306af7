using System.Security.Claims;
using System.Text.Encodings.Web;
using Casebook.Server.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Casebook.Server.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer cbk_…</c> (or <c>X-Api-Key: cbk_…</c>) against the hashed keys in the database.
/// A presented key that does not verify is a failed login and is audited.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys, AuditLog audit) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = CasebookAuth.PresentedCredential(Request);
        if (key == null) return Task.FromResult(AuthenticateResult.NoResult());
        var (info, claimedId) = keys.Verify(key);
        if (info == null)
        {
            audit.Append(claimedId != null ? $"key:{claimedId}" : "anonymous", "-", "login", Request.Path, CasebookAuth.Remote(Context), "failure", "invalid or revoked API key");
            return Task.FromResult(AuthenticateResult.Fail("invalid or revoked API key"));
        }
        var identity = new ClaimsIdentity([
            new Claim(CasebookAuth.SubjectClaim, $"key:{info.KeyId}"), new Claim(CasebookAuth.RoleClaim, info.Role), new Claim("auth", "api-key"),
        ], SchemeName, CasebookAuth.SubjectClaim, CasebookAuth.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
