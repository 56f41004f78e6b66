using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Yarp.ReverseProxy.Model;

namespace Gateway.Edge.RateLimiting;

public sealed record RateLimit
{
    public int PermitLimit { get; init; } = 600;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

// Edge:RateLimits:Groups:<group>. A route names its group in its metadata ("RateLimitGroup"), else its
// cluster's name is the group; a group without settings uses "default".
public sealed record RateLimitOptions
{
    public const string Section = "Edge:RateLimits";
    public Dictionary<string, RateLimit> Groups { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    public RateLimit For(string group) =>
        Groups.GetValueOrDefault(group) ?? Groups.GetValueOrDefault("default") ?? new RateLimit();
}

// Fixed-window counters per caller (API key, else user, else client address) and route group, kept in
// Redis so that every edge replica counts against the same limit. When Redis cannot be reached the
// window is counted in this instance's memory instead: limits loosen by the number of replicas for the
// outage, but never switch off. Authentication does not depend on this and still fails closed.
public sealed class RateLimiter(IConnectionMultiplexer redis, IOptionsMonitor<RateLimitOptions> options, TimeProvider time, ILogger<RateLimiter> logger)
{
    private const string CountScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """;

    private readonly ConcurrentDictionary<string, int> _local = new();
    private long _localWindow;

    public async Task<RateDecision> CountAsync(string group, string caller)
    {
        var limit = options.CurrentValue.For(group);
        var windowMs = (long)limit.Window.TotalMilliseconds;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var windowStart = now - now % windowMs;
        var resetSeconds = (int)Math.Ceiling((windowStart + windowMs - now) / 1000.0);
        var key = $"edge:rl:{group}:{caller}:{windowStart}";

        long count;
        try
        {
            count = (long)await redis.GetDatabase().ScriptEvaluateAsync(CountScript, [key], [windowMs]);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug("Rate limits counted locally, Redis unavailable: {Reason}", ex.Message);
            count = CountLocally(key, windowStart);
        }
        return new RateDecision(count <= limit.PermitLimit, limit.PermitLimit, (int)Math.Max(0, limit.PermitLimit - count), resetSeconds);
    }

    private int CountLocally(string key, long windowStart)
    {
        if (Interlocked.Exchange(ref _localWindow, windowStart) != windowStart)
        {
            _local.Clear();
        }
        return _local.AddOrUpdate(key, 1, (_, count) => count + 1);
    }

    public static string CallerOf(HttpContext context) =>
        context.User.FindFirstValue("key") is { } keyId ? $"key:{keyId}"
        : context.User.FindFirstValue("sub") is { } userId ? $"user:{userId}"
        : $"ip:{context.Connection.RemoteIpAddress}";

    public static string GroupOf(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        return route.Metadata?.GetValueOrDefault("RateLimitGroup") ?? route.ClusterId ?? "default";
    }
}

public sealed record RateDecision(bool Allowed, int Limit, int Remaining, int ResetSeconds);

public static class RateLimitMiddleware
{
    // Runs inside the proxy pipeline, where the matched route (and so its group) is known.
    public static IReverseProxyApplicationBuilder UseRateLimits(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            var limiter = context.RequestServices.GetRequiredService<RateLimiter>();
            var decision = await limiter.CountAsync(RateLimiter.GroupOf(context), RateLimiter.CallerOf(context));

            var headers = context.Response.Headers;
            headers["RateLimit-Limit"] = decision.Limit.ToString();
            headers["RateLimit-Remaining"] = decision.Remaining.ToString();
            headers["RateLimit-Reset"] = decision.ResetSeconds.ToString();
            if (decision.Allowed)
            {
                await next();
                return;
            }

            headers.RetryAfter = decision.ResetSeconds.ToString();
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = $"Rate limit of {decision.Limit} requests reached; try again in {decision.ResetSeconds} s.",
                },
            });
        });
        return proxy;
    }
}
