namespace Gateway.Contracts;

// Published by Keys when a key is revoked; every edge instance drops the key (by hash) from its caches.
public sealed record ApiKeyRevoked(Guid KeyId, Guid UserId, string KeyHash, DateTimeOffset RevokedAt);

// Published by each edge instance every few seconds: the last use it saw of each key, for lastUsedAt.
public sealed record ApiKeysUsed(IReadOnlyList<ApiKeyUse> Uses);

public sealed record ApiKeyUse(Guid KeyId, DateTimeOffset LastUsedAt);
