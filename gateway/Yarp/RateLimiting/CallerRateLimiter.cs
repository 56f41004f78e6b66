using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Gateway.Edge.Authentication;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Edge.RateLimiting;

// Fixed-window counters per caller (API key, else user, else device, else client address) and route group. Each edge
// replica decides from its own memory, with no Redis round trip on the request path, and every
// SyncInterval adds what it admitted to the shared count in Redis and reads back the total all replicas
// admitted. So replicas share one limit, and a burst within one interval can exceed it by what the other
// replicas admitted meanwhile. When Redis cannot be reached each replica keeps counting on its own: limits
// loosen by the number of replicas for the outage but never switch off. Authentication does not depend
// on any of this and still fails closed.
public sealed class CallerRateLimiter(IConnectionMultiplexer redis, IOptionsMonitor<RateLimitOptions> options, TimeProvider time, ILogger<CallerRateLimiter> logger)
    : BackgroundService
{
    private const string AddScript = """
        local count = redis.call('INCRBY', KEYS[1], ARGV[1])
        if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return count
        """;

    // Keyed by value rather than by the Redis key's text, so counting a request builds no string.
    private readonly ConcurrentDictionary<(string Group, string Caller, long Start), Window> _windows = new();

    public RateDecision Count(string group, string caller)
    {
        var limit = options.CurrentValue.For(group);
        var windowMs = (long)limit.Window.TotalMilliseconds;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var windowStart = now - now % windowMs;
        var resetSeconds = (int)Math.Ceiling((windowStart + windowMs - now) / 1000.0);

        var window = _windows.GetOrAdd((group, caller, windowStart), static (_, endsAt) => new Window(endsAt), windowStart + windowMs);
        var count = window.Admit();
        return new RateDecision(count <= limit.PermitLimit, limit.PermitLimit, (int)Math.Max(0, limit.PermitLimit - count), resetSeconds);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CurrentValue.SyncInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await SyncAsync();
        }
    }

    // One pipelined round trip for every live window.
    private async Task SyncAsync()
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var database = redis.GetDatabase();
        var syncs = new List<Task>();
        foreach (var (key, window) in _windows)
        {
            if (window.EndsAt <= now)
            {
                _windows.TryRemove(key, out _);
                continue;
            }
            // Also when this replica admitted nothing: it still learns what the others admitted.
            syncs.Add(SyncAsync(database, $"edge:rl:{key.Group}:{key.Caller}:{key.Start}", window, window.TakeUnsynced(), window.EndsAt - now));
        }
        await Task.WhenAll(syncs);
    }

    private async Task SyncAsync(IDatabase database, string key, Window window, long added, long ttlMs)
    {
        try
        {
            var total = (long)await database.ScriptEvaluateAsync(AddScript, [key], [added, ttlMs]);
            window.Synced(added, total);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            window.SyncFailed(added);
            logger.LogDebug("Rate limits counted locally, Redis unavailable: {Reason}", ex.Message);
        }
    }

    public static string CallerOf(HttpContext context) =>
        context.User.Identity is ApiKeyIdentity key ? key.RateLimitCaller
        : context.User.FindFirstValue("sub") is { } userId ? $"user:{userId}"
        : DeviceOf(context.Request) ?? $"ip:{context.Connection.RemoteIpAddress}";

    // A device calls with its own credential (Bearer dvc_…, which only Devices checks) and is counted as a caller of its
    // own: a fleet behind one address (a shop's router) is not one caller, and guessed activation codes from that
    // address do not stop its heartbeats (the device trial: 600 bad guesses put every device there on 429, offline
    // 90 s later). By the credential's hash, since the counts' keys go to Redis. A forged credential gets a count of its
    // own too, which Devices refuses with one indexed lookup.
    private static string? DeviceOf(HttpRequest request) =>
        request.Headers.Authorization is [{ Length: DeviceCredentialLength } value] && value.StartsWith(DeviceCredentialPrefix, StringComparison.Ordinal)
            ? $"device:{Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value)))[..32]}"
            : null;

    private const string DeviceCredentialPrefix = "Bearer dvc_";
    private const int DeviceCredentialLength = 54; // "Bearer dvc_" and 32 bytes in base64url (43 characters)

    public static string GroupOf(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        return route.Metadata?.GetValueOrDefault("RateLimitGroup") ?? route.ClusterId ?? "default";
    }

    // What this replica admitted in one window, and the shared total Redis last reported.
    private sealed class Window(long endsAt)
    {
        private long _shared;      // every replica's admissions as of the last sync, ours included
        private long _syncing;     // ours, on their way to Redis
        private long _unsynced;    // ours since then

        public long EndsAt { get; } = endsAt;

        public long Admit() =>
            Interlocked.Increment(ref _unsynced) + Interlocked.Read(ref _syncing) + Interlocked.Read(ref _shared);

        // Moved to _syncing before it leaves _unsynced: a request admitted in between counts them twice (refused
        // a moment early), never zero times (admitted past the limit).
        public long TakeUnsynced()
        {
            var taken = Interlocked.Read(ref _unsynced);
            Interlocked.Add(ref _syncing, taken);
            Interlocked.Add(ref _unsynced, -taken);
            return taken;
        }

        public void Synced(long added, long total)
        {
            Interlocked.Exchange(ref _shared, total);
            Interlocked.Add(ref _syncing, -added);
        }

        // Redis is away: keep counting here, so the limit still holds on this replica.
        public void SyncFailed(long added)
        {
            Interlocked.Add(ref _shared, added);
            Interlocked.Add(ref _syncing, -added);
        }
    }
}

public readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, int ResetSeconds);
