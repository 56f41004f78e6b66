using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.ServiceDefaults;

// The caller token: what the edge signs for each request it forwards, and the key both sides share.
public sealed record CallerTokenOptions
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(CallerTokenOptions);

    public const string Section = "Gateway:CallerToken";

    [Required, MinLength(32, ErrorMessage = "Gateway:CallerToken:Key must be at least 32 characters of random text.")]
    public string Key { get; init; } = "";

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(1);
}

// Who the edge says is calling. Method is "user" (access token) or "api_key".
// SessionId is the sign-in session of an access token, so Identity can end it at logout.
public sealed record Caller(Guid UserId, Guid? OrganizationId, string? Role, string? Email, string Method, Guid? ApiKeyId = null, Guid? SessionId = null);

public sealed class CallerTokenIssuer(IOptions<CallerTokenOptions> options)
{
    private const int MaxRemembered = 100_000;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials = new(Key(options.Value), SecurityAlgorithms.HmacSha256);

    // A token names its caller and is valid for Lifetime, so the same caller reuses it for half that life
    // rather than paying a signature on every proxied request. Keyed by the caller record's value.
    private readonly ConcurrentDictionary<Caller, (string Token, DateTime RenewAt)> _issued = new();
    private static readonly Caller Edge = new(Guid.Empty, null, null, null, CallerMethods.Service);

    // The edge's own identity for internal calls (e.g. resolving an API key).
    public string IssueForService() => Issue(Edge);

    public string Issue(Caller caller)
    {
        var now = DateTime.UtcNow;
        if (_issued.TryGetValue(caller, out var issued) && now < issued.RenewAt)
        {
            return issued.Token;
        }
        if (_issued.Count > MaxRemembered)
        {
            _issued.Clear(); // callers come and go; at worst a token is signed again
        }
        var token = Sign(caller, now);
        _issued[caller] = (token, now.Add(options.Value.Lifetime / 2));
        return token;
    }

    private string Sign(Caller caller, DateTime now)
    {
        var claims = new Dictionary<string, object>
        {
            [CallerClaims.UserId] = caller.UserId.ToString(),
            [CallerClaims.Method] = caller.Method,
        };
        if (caller.OrganizationId is { } org) claims[CallerClaims.OrganizationId] = org.ToString();
        if (caller.Role is { } role) claims[CallerClaims.Role] = role;
        if (caller.Email is { } email) claims[CallerClaims.Email] = email;
        if (caller.ApiKeyId is { } key) claims[CallerClaims.ApiKeyId] = key.ToString();
        if (caller.SessionId is { } session) claims[CallerClaims.SessionId] = session.ToString();

        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = CallerAuthentication.Issuer,
            Audience = CallerAuthentication.Audience,
            IssuedAt = now,
            NotBefore = now.AddSeconds(-5),
            Expires = now.Add(options.Value.Lifetime),
            Claims = claims,
            SigningCredentials = _credentials,
        });
    }

    internal static TokenValidationParameters ValidationParameters(CallerTokenOptions options) => new()
    {
        ValidIssuer = CallerAuthentication.Issuer,
        ValidAudience = CallerAuthentication.Audience,
        IssuerSigningKey = Key(options),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(5),
        NameClaimType = CallerClaims.UserId,
        RoleClaimType = CallerClaims.Role,
    };

    private static SymmetricSecurityKey Key(CallerTokenOptions options) => new(Encoding.UTF8.GetBytes(options.Key));
}
