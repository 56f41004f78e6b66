using System.Diagnostics.Metrics;
using Gateway.Hosting.Dashboard.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Gateway.Dashboard.Tests;

// Cumulative temporality, the .NET exporter's default: the second export repeats the first one's counts.
public sealed class MetricExportTests
{
    // ASP.NET Core's advice for http.server.request.duration, in seconds.
    private static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    [Fact]
    public async Task Request_histogram_becomes_rate_error_rate_and_percentiles_after_two_exports()
    {
        await using var server = await TelemetryServer.StartAsync();
        using var meter = new Meter("Test.AspNetCore");
        var duration = meter.CreateHistogram<double>("http.server.request.duration", "s");
        using var metrics = Metrics(server, "chat", meter.Name);

        Record(duration, 8, 0.02, 200, "/v1/chat/completions");
        Record(duration, 2, 0.2, 500, "/v1/chat/completions");
        Record(duration, 3, 0.001, 200, "/health/liveness");
        metrics.ForceFlush();
        Record(duration, 4, 0.02, 200, "/v1/chat/completions");
        Record(duration, 1, 0.2, 500, "/v1/chat/completions");
        metrics.ForceFlush();

        var charts = await server.GetAsync<RequestMetrics>("api/telemetry/metrics/requests?minutes=5");
        Assert.Equal(10, charts.BucketSeconds);
        var points = charts.Services["chat"];
        Assert.Equal(15, points.Sum(p => p.RequestsPerSecond * charts.BucketSeconds), 6);
        Assert.Equal(3, points.Sum(p => p.RequestsPerSecond * charts.BucketSeconds * p.ErrorRate), 6);
        Assert.All(points.Where(p => p.RequestsPerSecond > 0), p =>
        {
            Assert.InRange(p.P50Ms!.Value, 10, 25);
            Assert.InRange(p.P99Ms!.Value, 100, 250);
        });
        Assert.Contains(await server.GetAsync<List<MetricName>>("api/telemetry/metrics/names"),
            n => n == new MetricName("http.server.request.duration", "chat", "histogram", "s"));
    }

    [Fact]
    public async Task Credit_counters_become_credits_per_minute_after_two_exports()
    {
        await using var server = await TelemetryServer.StartAsync();
        using var meter = new Meter("Gateway.Billing");
        var reserved = meter.CreateCounter<long>("gateway.billing.credits.reserved", "{credit}");
        var captured = meter.CreateCounter<long>("gateway.billing.credits.captured", "{credit}");
        using var metrics = Metrics(server, "billing", meter.Name);

        reserved.Add(100);
        metrics.ForceFlush();
        reserved.Add(50);
        captured.Add(80);
        metrics.ForceFlush();

        var minutes = await server.GetAsync<List<CreditPoint>>("api/telemetry/metrics/credits?minutes=10");
        Assert.NotEmpty(minutes);
        Assert.Equal(150, minutes.Sum(m => m.Reserved), 6);
        Assert.Equal(80, minutes.Sum(m => m.Captured), 6);
        Assert.All(minutes, m => Assert.Equal(0, m.Time % 60_000));
    }

    [Fact]
    public async Task A_period_beyond_the_window_is_a_400_problem()
    {
        await using var server = await TelemetryServer.StartAsync(new() { ["Dashboard:Telemetry:MetricsWindow"] = "00:30:00" });

        using var response = await server.Client.GetAsync("api/telemetry/metrics/requests?minutes=31", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static void Record(Histogram<double> duration, int times, double seconds, int status, string route)
    {
        for (var i = 0; i < times; i++)
        {
            duration.Record(seconds, new("http.response.status_code", status), new("http.route", route), new("http.request.method", "POST"));
        }
    }

    // Exports only when flushed.
    private static MeterProvider Metrics(TelemetryServer server, string service, string meter) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service))
            .AddMeter(meter)
            .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = Bounds })
            .AddOtlpExporter((options, reader) =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = server.Endpoint("metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = int.MaxValue;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            })
            .Build();
}
