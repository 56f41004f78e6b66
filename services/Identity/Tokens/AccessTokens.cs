using System.Security.Claims;
using Gateway.Identity.Accounts;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity.Tokens;

public static class TokenClaims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string Organization = "org";
    public const string Role = "role";
    public const string Email = JwtRegisteredClaimNames.Email;
    public const string Session = JwtRegisteredClaimNames.Sid;

    public static Guid? UserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(Subject), out var id) ? id : null;

    public static Guid? SessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(Session), out var id) ? id : null;
}

// Short-lived JWTs signed by the ring's newest key. `sid` names the refresh-token family, so logout with
// an access token can end the session it belongs to.
public sealed class AccessTokens(SigningKeyRing ring, IOptions<TokenIssuanceOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public (string Token, DateTimeOffset ExpiresAt) Issue(User user, Guid sessionId)
    {
        var now = time.GetUtcNow();
        var expiresAt = now + options.Value.AccessTokenLifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            SigningCredentials = ring.Current,
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = user.Id.ToString(),
                [TokenClaims.Organization] = user.OrganizationId.ToString(),
                [TokenClaims.Role] = user.Role.Name(),
                [TokenClaims.Email] = user.Email!,
                [TokenClaims.Session] = sessionId.ToString(),
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
        });
        return (token, expiresAt);
    }
}
