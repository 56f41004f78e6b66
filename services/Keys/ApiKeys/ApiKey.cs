using Gateway.Contracts;
using Gateway.Keys.Infrastructure;

namespace Gateway.Keys.ApiKeys;

// A key a user created. The key itself is never stored: only its SHA-256 (to find it when presented)
// and a masked form to recognise it by (sk_live_ab12…wxyz).
public sealed class ApiKey
{
    public const int MaxNameLength = 100;
    public const string DefaultName = "Default key";

    private ApiKey() { }

    public Guid Id { get; private init; }
    public Guid UserId { get; private init; }
    public Guid? OrganizationId { get; private init; }
    public string Name { get; private init; } = "";
    public string Hash { get; private init; } = "";
    public string MaskedKey { get; private init; } = "";
    // The key GET /api/user/api-key hands out; at most one unrevoked per user (a unique partial index).
    public bool IsDefault { get; private init; }
    public DateTimeOffset CreatedAt { get; private init; }
    public DateTimeOffset? ExpiresAt { get; private init; }
    public DateTimeOffset? LastUsedAt { get; private init; }
    // Also the concurrency token: a revocation only saves where the row was still unrevoked.
    public DateTimeOffset? RevokedAt { get; private set; }

    public static (ApiKey Key, string Secret) Issue(
        Guid userId, Guid? organizationId, string name, DateTimeOffset? expiresAt, bool isDefault, DateTimeOffset now)
    {
        var secret = ApiKeySecret.Generate();
        now = now.ToMicroseconds();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(now),
            UserId = userId,
            OrganizationId = organizationId,
            Name = name,
            Hash = ApiKeySecret.Hash(secret),
            MaskedKey = ApiKeySecret.Mask(secret),
            IsDefault = isDefault,
            CreatedAt = now,
            ExpiresAt = expiresAt?.ToMicroseconds(),
        };
        return (key, secret);
    }

    public string Status(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";

    // The event to publish, or null when the key was already revoked (revoking is idempotent).
    public ApiKeyRevoked? Revoke(DateTimeOffset now)
    {
        if (RevokedAt is not null)
        {
            return null;
        }
        RevokedAt = now.ToMicroseconds();
        return new ApiKeyRevoked(Id, UserId, Hash, RevokedAt.Value);
    }
}
