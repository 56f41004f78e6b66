using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>Registers the dashboard's in-memory telemetry.</summary>
public static class TelemetryStoreExtensions
{
    /// <summary>Adds the singleton <see cref="TelemetryStore"/>, sized by the <c>Dashboard:Telemetry</c> section.</summary>
    public static IServiceCollection AddTelemetryStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>()
            .Bind(configuration.GetSection(TelemetryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TelemetryStore>();
        return services;
    }
}
