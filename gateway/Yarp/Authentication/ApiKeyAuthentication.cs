using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Edge.Authentication;

// Authenticates `x-api-key: sk_live_…` or `Authorization: Bearer sk_live_…` through the key resolver.
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyResolver resolver, ApiKeyUsage usage)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public static bool IsPresented(HttpRequest request) => Presented(request) is not null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } key)
        {
            return AuthenticateResult.NoResult();
        }
        if (!ApiKeyFormat.IsWellFormed(key))
        {
            return AuthenticateResult.Fail(new CredentialRefusedException("The API key is malformed."));
        }

        ResolvedKey? resolved;
        try
        {
            resolved = await resolver.ResolveAsync(ApiKeyFormat.Hash(key), Context.RequestAborted);
        }
        catch (CredentialCheckUnavailableException unavailable)
        {
            return AuthenticateResult.Fail(unavailable);
        }
        if (resolved is null)
        {
            return AuthenticateResult.Fail(new CredentialRefusedException("The API key is not valid, or has been revoked or has expired."));
        }

        usage.Record(resolved.KeyId);
        List<Claim> claims =
        [
            new("sub", resolved.UserId.ToString()),
            new("key", resolved.KeyId.ToString()),
        ];
        if (resolved.OrganizationId is { } org)
        {
            claims.Add(new Claim("org", org.ToString()));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyFormat.Scheme, "sub", "role"));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    private static string? Presented(HttpRequest request)
    {
        if (request.Headers["x-api-key"] is [{ Length: > 0 } header])
        {
            return header.Trim();
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer " + ApiKeyFormat.Prefix, StringComparison.Ordinal)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }
}

// A presented credential that was checked and refused: the edge answers 401 with this message.
public sealed class CredentialRefusedException(string message) : Exception(message);

// The credential could not be checked (the Keys service does not answer): the edge fails closed with 503.
public sealed class CredentialCheckUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
