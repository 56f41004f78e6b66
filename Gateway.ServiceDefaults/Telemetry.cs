using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Gateway.ServiceDefaults;

public static class Telemetry
{
    // MassTransit's ActivitySource and Meter are both named "MassTransit".
    private const string MassTransitSource = "MassTransit";

    // How many new traces a second each process starts at most (TracesPerSecondSampler); 0 traces every request.
    public const string TracesPerSecondSetting = "Gateway:Telemetry:TracesPerSecond";
    private const double DefaultTracesPerSecond = 10;

    // False where requests come from outside (the edge): a caller's traceparent then keeps its trace id but not its
    // sampling decision, so no client can make every one of its requests traced. Services follow their callers.
    public const string FollowCallerSamplingSetting = "Gateway:Telemetry:FollowCallerSampling";

    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        // Every outgoing call (health probes included) would otherwise log four lines, and the resilience pipeline one
        // more per attempt; traces have them.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        // Without an OTLP endpoint nothing would receive the spans, metrics or log records, yet recording them
        // costs every request: at the edge under load, about 6% of its CPU in a profile (an Activity with its tags
        // and a histogram update for the inbound request, and again for the call it forwards).
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        // Query strings carry secrets here (the live channel's ?access_token=, an invitation's ?token=): their values are
        // kept out of url.query and url.full, whatever the environment says. The AppHost's defaults turn OpenTelemetry's
        // redaction off for local runs, which put users' tokens into the dashboard and its store on disk.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "false",
            ["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "false",
        });

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var tracesPerSecond = builder.Configuration.GetValue(TracesPerSecondSetting, DefaultTracesPerSecond);
        var limit = new TracesPerSecondSampler(tracesPerSecond > 0 ? tracesPerSecond : double.PositiveInfinity);
        var sampler = builder.Configuration.GetValue(FollowCallerSamplingSetting, true)
            ? new ParentBasedSampler(limit)
            : new ParentBasedSampler(limit, remoteParentSampled: limit, remoteParentNotSampled: limit);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(MassTransitSource, "Gateway.*"))
            .WithTracing(tracing => tracing
                .SetSampler(sampler)
                .AddSource(builder.Environment.ApplicationName, MassTransitSource, "Gateway.*")
                .AddAspNetCoreInstrumentation(options =>
                    // Health probes would drown every real trace.
                    options.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .UseOtlpExporter();

        return builder;
    }
}
