using Gateway.Hosting.Dashboard.Telemetry;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Metrics;

namespace Gateway.Dashboard.Tests;

public sealed class RequestChartTests
{
    private const ulong Second = 1_000_000_000;

    [Fact]
    public async Task Percentiles_are_interpolated_inside_their_bucket()
    {
        await using var server = await TelemetryServer.StartAsync();
        var now = OtlpRequests.Now;

        await server.PostAsync("metrics", OtlpRequests.Requests("chat", "ms", AggregationTemporality.Delta, now, now, 200, [10, 20, 50], [0, 10, 0, 0]));

        var point = Assert.Single((await Charts(server)).Services["chat"]);
        Assert.Equal(1, point.RequestsPerSecond, 6);
        Assert.Equal(0, point.ErrorRate);
        Assert.Equal(15, point.P50Ms!.Value, 6);
        Assert.Equal(19.9, point.P99Ms!.Value, 6);
    }

    [Fact]
    public async Task A_new_series_counts_from_its_process_previous_export_not_from_process_start()
    {
        await using var server = await TelemetryServer.StartAsync();
        var now = OtlpRequests.Now;
        var processStart = now - 120 * Second;
        double[] bounds = [0.1, 1];

        await server.PostAsync("metrics", OtlpRequests.Requests("chat", "s", AggregationTemporality.Cumulative, processStart, now - 60 * Second, 200, bounds, [5, 0, 0]));
        await server.PostAsync("metrics", OtlpRequests.Requests("chat", "s", AggregationTemporality.Cumulative, processStart, now - 30 * Second, 200, bounds, [9, 0, 0]));
        await server.PostAsync("metrics", OtlpRequests.Requests("chat", "s", AggregationTemporality.Cumulative, processStart, now, 503, bounds, [0, 3, 0]));

        var points = (await Charts(server)).Services["chat"];
        var firstErrorBucket = (now - 30 * Second) / 1_000_000 / 10_000 * 10_000.0;
        Assert.All(points.Where(p => p.ErrorRate > 0), p => Assert.True(p.Time >= firstErrorBucket));
        Assert.Equal(3, points.Sum(p => p.RequestsPerSecond * 10 * p.ErrorRate), 6);
        Assert.Equal(12, points.Sum(p => p.RequestsPerSecond * 10), 6);
    }

    private static Task<RequestMetrics> Charts(TelemetryServer server) =>
        server.GetAsync<RequestMetrics>("api/telemetry/metrics/requests?minutes=5");
}
