using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Work.Http;

/// <summary>
/// Authenticates a caller by an API key in header <c>X-Api-Key</c> or <c>Authorization: ApiKey KEY</c>, compared by
/// its SHA-256 with the keys in <see cref="WorkHttpOptions.ApiKeys"/>. A request without a key is left to the next
/// scheme (a bearer token); a wrong key fails.
/// </summary>
internal sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> schemes,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<WorkHttpOptions> options)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
{
    public const string SchemeName = "WorkApiKey";
    public const string Header = "X-Api-Key";
    private const string AuthorizationPrefix = "ApiKey ";

    private readonly (byte[] Hash, WorkApiKey Key)[] _keys = options.Value.ApiKeys.Select(k => (Convert.FromHexString(k.Sha256), k)).ToArray();

    /// <summary>Whether the request carries an API key, so this scheme, not a bearer token's, answers for it.</summary>
    public static bool Carries(Microsoft.AspNetCore.Http.HttpRequest request) =>
        request.Headers.ContainsKey(Header)
        || request.Headers.Authorization.ToString().StartsWith(AuthorizationPrefix, StringComparison.OrdinalIgnoreCase);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = Request.Headers[Header];
        if (presented is null && Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith(AuthorizationPrefix, StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization[AuthorizationPrefix.Length..].Trim();
        }

        if (string.IsNullOrEmpty(presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));

        // Every key is compared, in constant time each, so the time taken does not tell which came close.
        WorkApiKey? match = null;
        foreach (var (expected, key) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                match = key;
            }
        }

        if (match is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not one this server accepts."));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, match.Name), new Claim(WorkAuthorization.RoleClaim, WorkAuthorization.RoleName(match.Role))],
            SchemeName,
            ClaimTypes.Name,
            WorkAuthorization.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
