using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text.Json;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Edge.Authentication;

public sealed record ResolvedKey(Guid KeyId, Guid UserId, Guid? OrganizationId, DateTimeOffset? ExpiresAt);

public sealed record ApiKeyCacheOptions : IValidatableObject
{
    // It holds a secret: printed (ToString, a log line) by its name only.
    public override string ToString() => nameof(ApiKeyCacheOptions);

    public const string Section = "Edge:ApiKeys";
    public const string CacheKeySetting = "Edge:ApiKeys:CacheKey";
    public TimeSpan MemoryTtl { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RedisTtl { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromSeconds(5);

    // Base64 of 32 random bytes, the same on every edge replica and held by nothing else: the MAC key of the
    // entries the edge writes to Redis (KeyCacheSeal). Passed in by the AppHost; never in appsettings.json.
    public string CacheKey { get; init; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Convert.TryFromBase64String(CacheKey, new byte[32], out var written) || written != 32)
        {
            yield return new ValidationResult(
                $"{CacheKeySetting} (environment Edge__ApiKeys__CacheKey) must be the base64 of 32 random bytes, the same on every edge replica, for example from `openssl rand -base64 32`.",
                [nameof(CacheKey)]);
        }
    }
}

// Finds who a key belongs to: in memory for a few seconds, in Redis (shared by edge replicas) for a
// minute, else from the Keys service. Unknown keys are remembered briefly too. Entries never outlive
// the key's expiry, and a revocation (Forget) wins over any lookup that was in flight when it arrived.
// If neither Redis nor Keys can answer, the key is refused: authentication fails closed. An entry in Redis
// counts only if it carries the edge's MAC (KeyCacheSeal); anything else is ignored and replaced.
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
    // Replaces an entry the edge does not trust, unless something else (a revocation tombstone) replaced it first.
    private const string ReplaceScript = """
        local current = redis.call('GET', KEYS[1])
        if current == false or current == ARGV[1] then
            return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        end
        return false
        """;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, Lazy<Task<ApiKeyIdentity?>>> _inFlight = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _revoked = new();
    private readonly ApiKeyCacheOptions _ttl = options.Value;
    private readonly byte[] _cacheKey = Convert.FromBase64String(options.Value.CacheKey);

    public async ValueTask<ApiKeyIdentity?> ResolveAsync(string hash, CancellationToken cancellationToken)
    {
        if (_revoked.ContainsKey(hash))
        {
            return null;
        }
        if (memory.TryGetValue(hash, out CachedKey? cached))
        {
            return Live(cached!.Identity);
        }

        // One lookup per key at a time, however many requests carry it.
        var lookup = _inFlight.GetOrAdd(hash, h => new Lazy<Task<ApiKeyIdentity?>>(() => LookUpAsync(h)));
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
            var name = RedisKey(hash);
            await redis.GetDatabase().StringSetAsync(name, KeyCacheSeal.Seal(_cacheKey, name, now + _ttl.RedisTtl, Unknown), _ttl.RedisTtl);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not write the revocation tombstone to Redis: {Reason}", ex.Message);
        }
    }

    private async Task<ApiKeyIdentity?> LookUpAsync(string hash)
    {
        var (shared, untrusted) = await ReadRedisAsync(hash);
        if (shared is { } found)
        {
            var ttl = found.Key is null ? _ttl.NegativeTtl : _ttl.MemoryTtl;
            var left = found.ValidUntil - time.GetUtcNow();
            return Remember(hash, found.Key, left < ttl ? left : ttl);
        }

        var resolved = await FetchAsync(hash);
        if (_revoked.ContainsKey(hash))
        {
            return null;
        }
        var identity = Remember(hash, resolved, resolved is null ? _ttl.NegativeTtl : _ttl.MemoryTtl);
        await WriteRedisAsync(hash, resolved, untrusted);
        return identity;
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

    // Shared: an entry the edge wrote and may believe. Untrusted: a value it may not believe, to be replaced.
    private async Task<(SharedEntry? Shared, RedisValue Untrusted)> ReadRedisAsync(string hash)
    {
        var name = RedisKey(hash);
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(name);
            if (value.IsNull)
            {
                return (null, RedisValue.Null);
            }
            if (!KeyCacheSeal.TryOpen(_cacheKey, name, value.ToString(), out var payload, out var validUntil))
            {
                // Written by something else that reaches Redis (or a replica given another key). Never log the value.
                logger.LogWarning("Ignored an API key cache entry in Redis whose MAC does not verify ({RedisKey}): not written by an edge holding this Edge:ApiKeys:CacheKey. Asking Keys instead and replacing it.", name);
                return (null, value);
            }
            if (validUntil <= time.GetUtcNow())
            {
                // An edge wrote it, but Redis kept it past its time: a replay, or clocks that disagree.
                logger.LogDebug("Ignored an API key cache entry in Redis past its time ({RedisKey}).", name);
                return (null, value);
            }
            return (new SharedEntry(payload == Unknown ? null : JsonSerializer.Deserialize<ResolvedKey>(payload, Json), validUntil), RedisValue.Null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
        {
            logger.LogDebug("Redis key cache unavailable: {Reason}", ex.Message);
            return (null, RedisValue.Null);
        }
    }

    private async Task WriteRedisAsync(string hash, ResolvedKey? key, RedisValue replacing)
    {
        var ttl = Bounded(key, key is null ? _ttl.NegativeTtl : _ttl.RedisTtl);
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            var name = RedisKey(hash);
            var value = KeyCacheSeal.Seal(_cacheKey, name, time.GetUtcNow() + ttl, key is null ? Unknown : JsonSerializer.Serialize(key, Json));
            var database = redis.GetDatabase();
            if (replacing.IsNull)
            {
                // NX: a revocation tombstone written meanwhile is never overwritten by this older answer.
                await database.StringSetAsync(name, value, ttl, When.NotExists);
            }
            else
            {
                await database.ScriptEvaluateAsync(ReplaceScript, [name], [replacing, value, (long)ttl.TotalMilliseconds]);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug("Redis key cache unavailable: {Reason}", ex.Message);
        }
    }

    // The identity is built here, once per cache entry, and shared by every request that presents the key meanwhile.
    private ApiKeyIdentity? Remember(string hash, ResolvedKey? key, TimeSpan ttl)
    {
        var identity = key is null ? null : new ApiKeyIdentity(key);
        ttl = Bounded(key, ttl);
        if (ttl > TimeSpan.Zero)
        {
            memory.Set(hash, new CachedKey(identity), ttl);
        }
        return identity;
    }

    private TimeSpan Bounded(ResolvedKey? key, TimeSpan ttl) =>
        key?.ExpiresAt is { } expiresAt && expiresAt - time.GetUtcNow() < ttl ? expiresAt - time.GetUtcNow() : ttl;

    private ApiKeyIdentity? Live(ApiKeyIdentity? identity) =>
        identity?.Key.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow() ? null : identity;

    private static string RedisKey(string hash) => $"edge:apikey:{hash}";

    private sealed record CachedKey(ApiKeyIdentity? Identity);

    private readonly record struct SharedEntry(ResolvedKey? Key, DateTimeOffset ValidUntil);
}
