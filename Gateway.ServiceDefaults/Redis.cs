using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Gateway.ServiceDefaults;

public static class Redis
{
    // One shared multiplexer (ConnectionStrings:redis) that reconnects by itself, and a readiness check.
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder, string connectionName = "redis")
    {
        var options = ConfigurationOptions.Parse(builder.Configuration.RequireConnectionString(connectionName));
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
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
