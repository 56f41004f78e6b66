using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

public static class TelemetryExtensions
{
    // How often each service sends its batched spans and log records, and its metrics, to the dashboard.
    private const string ExportInterval = "5000";

    /// <summary>
    /// A project's telemetry as the system needs it. Without a dashboard (the tests start the AppHost without it) a
    /// project gets no OTLP endpoint, and the services turn telemetry off (ServiceDefaults' Telemetry.cs): Aspire would
    /// give it the dashboard's address anyway, and the services would record every span and metric for nobody, or send
    /// them to another run's dashboard at the default address. With the dashboard, the services export every 5 s rather
    /// than the 1 s Aspire sets when the AppHost runs as Development (as ours does): the dashboard's CPU under load on
    /// two cores fell by a third to a half, and what it shows is at most 5 s old (docs/running.md, "Telemetry under load").
    /// </summary>
    public static IResourceBuilder<T> WithDashboardTelemetry<T>(this IResourceBuilder<T> builder) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context =>
        {
            if (!context.ExecutionContext.IsRunMode)
            {
                return;
            }
            if (context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
                return;
            }
            context.EnvironmentVariables["OTEL_BSP_SCHEDULE_DELAY"] = ExportInterval;
            context.EnvironmentVariables["OTEL_BLRP_SCHEDULE_DELAY"] = ExportInterval;
            context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = ExportInterval;
        });
}
