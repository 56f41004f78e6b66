using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Gateway.ServiceDefaults;

// The conventions every Gateway service shares, in the manner of eShop's ServiceDefaults.
public static class Extensions
{
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        // The one clock of the service; tests replace it.
        builder.Services.TryAddSingleton(ServiceClock.Instance);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddProblemResponses();
        builder.AddOpenApiDocument();
        builder.Services.AddRepeatedFailures();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new StringWithoutNulConverter());
            // {"role":"member","role":"owner"} is refused, not read as its last value: a proxy or a log that keeps the
            // first one would otherwise see a different request than the service acted on.
            json.SerializerOptions.AllowDuplicateProperties = false;
        });

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseQueryParameterChecks();
        app.MapHealthEndpoints();
        app.MapOpenApiDocument();
        return app;
    }
}
