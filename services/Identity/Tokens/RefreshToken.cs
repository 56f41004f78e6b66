using System.Security.Cryptography;
using System.Text;

namespace Gateway.Identity.Tokens;

// One sign-in: every refresh token rotated from the first one belongs to the same family, so presenting
// a token that was already used can end the whole session.
public sealed class RefreshTokenFamily
{
    public Guid Id { get; init; }
    public Guid UserId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedReason { get; set; }
}

public sealed class RefreshToken
{
    public Guid Id { get; init; }
    public Guid FamilyId { get; init; }
    public RefreshTokenFamily Family { get; init; } = null!;

    // SHA-256 of the token: the token itself is 256 random bits, so a plain hash cannot be reversed.
    public required byte[] TokenHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? UsedAt { get; set; }

    public static (RefreshToken Row, string Token) Issue(Guid familyId, DateTimeOffset now, TimeSpan lifetime)
    {
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (new RefreshToken
        {
            Id = Guid.CreateVersion7(),
            FamilyId = familyId,
            TokenHash = Hash(token),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        }, token);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
