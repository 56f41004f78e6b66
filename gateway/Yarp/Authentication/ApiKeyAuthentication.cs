using System.Security.Claims;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Authentication;

namespace Gateway.Edge.Authentication;

// Authenticates `x-api-key: sk_live_…` or `Authorization: Bearer sk_live_…` through the key resolver. Not an
// ASP.NET Core authentication handler: a key's identity is built once, when it is resolved, and every request that
// presents the key while it is cached shares it, rather than a handler, claims and a principal per request
// (bench/Edge.Bench/README.md). CallerAuthenticationMiddleware calls it.
public sealed class ApiKeyAuthentication(ApiKeyResolver resolver, ApiKeyUsage usage)
{
    // The key the request presents, read once by CallerAuthenticationMiddleware; null when it presents none.
    // alongsideAnother: an x-api-key came with an Authorization header carrying anything else (another key, an access
    // token, even one of the same user's): which one would pay is nobody's guess, so neither is taken. The same key in
    // both is one credential. Only an x-api-key can have company: a key in Authorization is the header itself.
    public static string? Presented(HttpRequest request, out bool alongsideAnother)
    {
        alongsideAnother = false;
        // Sent twice, the header's values are read as one (and refused as malformed), not as no key at all.
        if (request.Headers["x-api-key"] is { Count: > 0 } values && values.ToString() is { Length: > 0 } header)
        {
            var key = header.Trim();
            alongsideAnother = request.Headers.Authorization is [{ Length: > 0 } other]
                && !(other.AsSpan().Trim() is var value && value.StartsWith("Bearer ", StringComparison.Ordinal) && value["Bearer ".Length..].Trim().SequenceEqual(key));
            return key;
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer " + ApiKeyFormat.Prefix, StringComparison.Ordinal)
            ? authorization["Bearer ".Length..].Trim()
            : null;
    }

    public async ValueTask<AuthenticateResult> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.IsWellFormed(key))
        {
            return AuthenticateResult.Fail(new CredentialRefusedException("The API key is malformed."));
        }

        ApiKeyIdentity? identity;
        try
        {
            identity = await resolver.ResolveAsync(ApiKeyFormat.Hash(key), cancellationToken);
        }
        catch (CredentialCheckUnavailableException unavailable)
        {
            return AuthenticateResult.Fail(unavailable);
        }
        if (identity is null)
        {
            return AuthenticateResult.Fail(new CredentialRefusedException("The API key is not valid, or has been revoked or has expired."));
        }

        usage.Record(identity.Key.KeyId);
        return AuthenticateResult.Success(new AuthenticationTicket(identity.Principal, ApiKeyFormat.Scheme));
    }
}

// Who a resolved key speaks for: its claims, the principal the edge sets for its requests and the caller it forwards,
// built once per cached key and shared by its requests (nothing at the edge changes a principal once it is set).
public sealed class ApiKeyIdentity : ClaimsIdentity
{
    public ApiKeyIdentity(ResolvedKey key) : base(ClaimsOf(key), ApiKeyFormat.Scheme, "sub", "role")
    {
        Key = key;
        Caller = new Caller(key.UserId, key.OrganizationId, null, null, CallerMethods.ApiKey, key.KeyId);
        Principal = new ClaimsPrincipal(this);
        RateLimitCaller = $"key:{key.KeyId}";
    }

    public ResolvedKey Key { get; }
    public Caller Caller { get; }
    public ClaimsPrincipal Principal { get; }
    // Whom CallerRateLimiter counts its requests against.
    public string RateLimitCaller { get; }

    private static List<Claim> ClaimsOf(ResolvedKey key)
    {
        List<Claim> claims = [new("sub", key.UserId.ToString()), new("key", key.KeyId.ToString())];
        if (key.OrganizationId is { } org)
        {
            claims.Add(new Claim("org", org.ToString()));
        }
        return claims;
    }
}

// A presented credential that was checked and refused: the edge answers 401 with this message.
public sealed class CredentialRefusedException(string message) : Exception(message);

// The credential could not be checked (the Keys service does not answer): the edge fails closed with 503.
public sealed class CredentialCheckUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
