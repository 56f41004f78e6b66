using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

public static class TelemetryExtensions
{
    /// <summary>
    /// Aspire gives every project the dashboard's OTLP address even when the dashboard does not run (the tests start the
    /// AppHost without it): the services would then record every span and metric for nobody, or send them to another
    /// run's dashboard listening at the default address. Without a dashboard, a project gets no OTLP endpoint, and the
    /// services turn telemetry off (ServiceDefaults' Telemetry.cs).
    /// </summary>
    public static IResourceBuilder<T> WithoutTelemetryWhenNoDashboard<T>(this IResourceBuilder<T> builder) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context =>
        {
            if (context.ExecutionContext.IsRunMode
                && context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
            }
        });
}
