namespace Gateway.Contracts;

// Published by Keys (through its outbox) when a key stops working: revoked by its owner or because the
// owner's account was deleted. KeyHash (lowercase hex SHA-256 of the whole key) lets every edge replica
// drop the cache entries it keeps by hash. Handling it twice does no harm; handled once per KeyId.
public sealed record ApiKeyRevoked(Guid KeyId, Guid UserId, string KeyHash, DateTimeOffset RevokedAt);

// Published by the edge every few seconds: the last time each key was used in that interval. Keys applies
// a batch with one UPDATE that only moves lastUsedAt forward, so a repeat or a late batch changes nothing.
public sealed record ApiKeysUsed(IReadOnlyList<ApiKeyUse> Uses);

public sealed record ApiKeyUse(Guid KeyId, DateTimeOffset LastUsedAt);

// How an API key is named between the edge and Keys: lowercase hex SHA-256 of the whole key, prefix included.
public static class ApiKeyHash
{
    public const string Prefix = "sk_live_";

    public static string Of(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}
