using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Edge.Authentication;

public sealed record ResolvedKey(Guid KeyId, Guid UserId, Guid? OrganizationId, DateTimeOffset? ExpiresAt);

public sealed record ApiKeyCacheOptions
{
    public const string Section = "Edge:ApiKeys";
    public TimeSpan MemoryTtl { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RedisTtl { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromSeconds(5);
}

// Finds who a key belongs to: in memory for a few seconds, in Redis (shared by edge replicas) for a
// minute, else from the Keys service. Unknown keys are remembered briefly too. Entries never outlive
// the key's expiry, and a revocation (Forget) wins over any lookup that was in flight when it arrived.
// If neither Redis nor Keys can answer, the key is refused: authentication fails closed.
public sealed class ApiKeyResolver(
    IMemoryCache memory,
    IConnectionMultiplexer redis,
    IHttpClientFactory clients,
    CallerTokenIssuer callerTokens,
    IOptions<ApiKeyCacheOptions> options,
    TimeProvider time,
    ILogger<ApiKeyResolver> logger)
{
    public const string KeysClient = "keys-resolve";
    private const string Unknown = "-";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, Lazy<Task<ResolvedKey?>>> _inFlight = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new();
    private readonly ApiKeyCacheOptions _ttl = options.Value;

    public async ValueTask<ResolvedKey?> ResolveAsync(string hash, CancellationToken cancellationToken)
    {
        if (_revoked.ContainsKey(hash))
        {
            return null;
        }
        if (memory.TryGetValue(hash, out CachedKey? cached))
        {
            return Live(cached!.Key);
        }

        // One lookup per key at a time, however many requests carry it.
        var lookup = _inFlight.GetOrAdd(hash, h => new Lazy<Task<ResolvedKey?>>(() => LookUpAsync(h)));
        try
        {
            return Live(await lookup.Value.WaitAsync(cancellationToken));
        }
        finally
        {
            _inFlight.TryRemove(KeyValuePair.Create(hash, lookup));
        }
    }

    // Called on ApiKeyRevoked: drop the key here and leave a tombstone in Redis for the other replicas.
    public async Task ForgetAsync(string hash)
    {
        var now = time.GetUtcNow();
        _revoked[hash] = now;
        memory.Remove(hash);
        foreach (var (old, at) in _revoked)
        {
            if (now - at > _ttl.RedisTtl * 2) _revoked.TryRemove(old, out _);
        }
        try
        {
            await redis.GetDatabase().StringSetAsync(RedisKey(hash), Unknown, _ttl.RedisTtl);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not write the revocation tombstone to Redis: {Reason}", ex.Message);
        }
    }

    private async Task<ResolvedKey?> LookUpAsync(string hash)
    {
        var shared = await ReadRedisAsync(hash);
        if (shared is { } found)
        {
            Remember(hash, found.Key, found.Key is null ? _ttl.NegativeTtl : _ttl.MemoryTtl);
            return found.Key;
        }

        var resolved = await FetchAsync(hash);
        if (_revoked.ContainsKey(hash))
        {
            return null;
        }
        Remember(hash, resolved, resolved is null ? _ttl.NegativeTtl : _ttl.MemoryTtl);
        await WriteRedisAsync(hash, resolved);
        return resolved;
    }

    private async Task<ResolvedKey?> FetchAsync(string hash)
    {
        try
        {
            using var client = clients.CreateClient(KeysClient);
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://keys/internal/api-keys/resolve")
            {
                Content = JsonContent.Create(new { hash }),
            };
            request.Headers.Add(CallerAuthentication.HeaderName, callerTokens.IssueForService());
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<ResolvedKey>(Json);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException)
        {
            throw new CredentialCheckUnavailableException("API keys cannot be checked right now; try again shortly.", ex);
        }
    }

    private async Task<(ResolvedKey? Key, bool)?> ReadRedisAsync(string hash)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(RedisKey(hash));
            if (value.IsNull)
            {
                return null;
            }
            return value == Unknown ? (null, true) : (JsonSerializer.Deserialize<ResolvedKey>(value.ToString(), Json), true);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
        {
            logger.LogDebug("Redis key cache unavailable: {Reason}", ex.Message);
            return null;
        }
    }

    private async Task WriteRedisAsync(string hash, ResolvedKey? key)
    {
        var ttl = Bounded(key, key is null ? _ttl.NegativeTtl : _ttl.RedisTtl);
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            // NX: a revocation tombstone written meanwhile is never overwritten by this older answer.
            var value = key is null ? Unknown : JsonSerializer.Serialize(key, Json);
            await redis.GetDatabase().StringSetAsync(RedisKey(hash), value, ttl, When.NotExists);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug("Redis key cache unavailable: {Reason}", ex.Message);
        }
    }

    private void Remember(string hash, ResolvedKey? key, TimeSpan ttl)
    {
        ttl = Bounded(key, ttl);
        if (ttl > TimeSpan.Zero)
        {
            memory.Set(hash, new CachedKey(key), ttl);
        }
    }

    private TimeSpan Bounded(ResolvedKey? key, TimeSpan ttl) =>
        key?.ExpiresAt is { } expiresAt && expiresAt - time.GetUtcNow() < ttl ? expiresAt - time.GetUtcNow() : ttl;

    private ResolvedKey? Live(ResolvedKey? key) =>
        key?.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow() ? null : key;

    private static string RedisKey(string hash) => $"edge:apikey:{hash}";

    private sealed record CachedKey(ResolvedKey? Key);
}
