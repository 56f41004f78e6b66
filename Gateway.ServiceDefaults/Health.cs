using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Gateway.ServiceDefaults;

// Liveness says the process answers; readiness says every dependency it needs answers too (the edge's: its own, Redis
// and RabbitMQ, not the services behind it: Gateway.Edge's DownstreamHealthChecks).
public static class Health
{
    public const string ReadyTag = "ready";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IHostApplicationBuilder AddDefaultHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks();

        // A dependency that hangs must turn readiness red quickly, not hold the probe.
        builder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => r.Timeout == Timeout.InfiniteTimeSpan))
            {
                registration.Timeout = TimeSpan.FromSeconds(3);
            }
        });
        return builder;
    }

    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/health/liveness", () => TypedResults.Ok(new { status = "ok" }))
            .ExcludeFromDescription();

        app.MapHealthReport("/health/readiness", ReadyTag);
        return app;
    }

    // The checks with any of these tags, as a report of each check's status and, when failing, why.
    public static IEndpointConventionBuilder MapHealthReport(this WebApplication app, string path, params string[] tags) =>
        app.MapHealthChecks(path, new HealthCheckOptions
        {
            Predicate = check => tags.Any(check.Tags.Contains),
            ResponseWriter = WriteReport,
        });

    private static Task WriteReport(HttpContext context, HealthReport report)
    {
        var body = new
        {
            status = Describe(report.Status),
            durationMs = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new
                {
                    status = Describe(entry.Value.Status),
                    durationMs = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    // Our checks' own words; an exception's text (often with a server's address) stays in the log,
                    // since the edge's report is public.
                    error = entry.Value.Status == HealthStatus.Healthy
                        ? null
                        : entry.Value.Description is { } description && description != entry.Value.Exception?.Message
                            ? description
                            : "The check failed; the service's log says why.",
                }),
        };
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }

    private static string Describe(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
