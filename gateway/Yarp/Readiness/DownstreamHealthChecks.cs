using System.Text.Json;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Edge.Readiness;

// Whether every service the edge routes to reports ready itself: GET /health/downstream, with the edge's own checks.
// Not the edge's readiness: an orchestrator takes an unready edge out of service, so one service down (Devices' database,
// say) would take the whole public API down with it, the services that answer included; the edge answers that service's
// routes 502/503 and the rest as usual. The AppHost waits on this report (the system is up when it is green).
public static class DownstreamHealthChecks
{
    public const string Path = "/health/downstream";
    private const string Tag = "downstream";
    private const string ClientName = "downstream-health";

    public static IHostApplicationBuilder AddDownstreamHealthChecks(this IHostApplicationBuilder builder)
    {
        // A probe must answer now: no retries, one short timeout.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is exactly what a probe needs.
        builder.Services.AddHttpClient(ClientName, client => client.Timeout = TimeSpan.FromSeconds(2))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        var clusters = builder.Configuration.GetSection("ReverseProxy:Clusters").GetChildren();
        foreach (var cluster in clusters)
        {
            var service = cluster.Key;
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                service,
                services => new DownstreamHealthCheck(services.GetRequiredService<IHttpClientFactory>(), service),
                HealthStatus.Unhealthy,
                [Tag]));
        }
        return builder;
    }

    public static IEndpointConventionBuilder MapDownstreamHealth(this WebApplication app) =>
        app.MapHealthReport(Path, Tag, Health.ReadyTag);

    // Why a call to a service got no answer, in words that name no address (the readiness report and the API
    // reference are public; the exception's text, with the address, goes to the log).
    internal static string NotAnswering(Exception ex) => ex switch
    {
        TaskCanceledException => "timed out",
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "its address is not known",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "connection refused or lost",
        _ => "failed",
    };

    private sealed class DownstreamHealthCheck(IHttpClientFactory clients, string service) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var client = clients.CreateClient(ClientName);
                using var response = await client.GetAsync($"http://{service}/health/readiness", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return HealthCheckResult.Healthy();
                }

                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                return HealthCheckResult.Unhealthy($"{service} is not ready: {Summarize(body)}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy($"{service} does not answer ({NotAnswering(ex)})");
            }
        }

        // Names the downstream's failing checks, e.g. "postgres, rabbitmq".
        private static string Summarize(string body)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                var failing = json.RootElement.GetProperty("checks").EnumerateObject()
                    .Where(check => check.Value.GetProperty("status").GetString() != "healthy")
                    .Select(check => check.Name);
                return string.Join(", ", failing);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return "unreadable readiness report";
            }
        }
    }
}
