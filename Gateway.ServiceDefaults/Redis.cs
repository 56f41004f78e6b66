using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Gateway.ServiceDefaults;

public static class Redis
{
    // One shared multiplexer through Aspire's client integration (ConnectionStrings:redis) that reconnects by itself, and
    // our readiness check "redis".
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder, string connectionName = "redis")
    {
        builder.AddRedisClient(
            connectionName,
            settings =>
            {
                settings.ConnectionString = ConnectionStrings.Require(settings.ConnectionString, connectionName);
                // Ours instead: a check whose words name no address (the edge's report is public).
                settings.DisableHealthChecks = true;
                // A span per command on the edge's hot path (key cache, rate-limit sync), recorded even with no receiver.
                settings.DisableTracing = true;
            },
            options =>
            {
                options.AbortOnConnectFail = false;
                options.ConnectTimeout = 2000;
            });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [Health.ReadyTag]);
        return builder;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"PING in {latency.TotalMilliseconds:0.0} ms");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // In words without the server's address: the edge's readiness report is public.
                return HealthCheckResult.Unhealthy(ex is TimeoutException ? "Redis timed out." : "Redis does not answer.");
            }
        }
    }
}
