using System.Security.Cryptography;
using System.Text;

namespace Gateway.Identity.OAuth;

// One sign-in started with a provider and not yet finished: the state it must come back with (stored
// hashed), the PKCE verifier, and the account to link when a signed-in user started it. Used once.
public sealed class OAuthAuthorization
{
    public Guid Id { get; init; }
    public required string Provider { get; init; }
    public required byte[] StateHash { get; init; }
    public string? CodeVerifier { get; init; }
    public Guid? LinkUserId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }

    public static (OAuthAuthorization Authorization, string State) Start(string provider, bool pkce, Guid? linkUserId, DateTimeOffset now, TimeSpan lifetime)
    {
        var state = RandomToken();
        return (new OAuthAuthorization
        {
            Id = Guid.CreateVersion7(),
            Provider = provider,
            StateHash = Hash(state),
            CodeVerifier = pkce ? RandomToken() : null,
            LinkUserId = linkUserId,
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        }, state);
    }

    public string? CodeChallenge => CodeVerifier is null ? null : Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(CodeVerifier)));

    public static byte[] Hash(string state) => SHA256.HashData(Encoding.UTF8.GetBytes(state));

    private static string RandomToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
