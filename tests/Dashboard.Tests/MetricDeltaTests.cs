using Gateway.Hosting.Dashboard.Telemetry;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Metrics;

namespace Gateway.Dashboard.Tests;

// Temporalities and restarts the SDK will not produce on cue, sent as hand-built requests.
public sealed class MetricDeltaTests
{
    private const string Reserved = "gateway.billing.credits.reserved";
    private const ulong Second = 1_000_000_000;

    [Fact]
    public async Task Delta_points_are_added_as_they_come()
    {
        await using var server = await TelemetryServer.StartAsync();
        var now = OtlpRequests.Now;

        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Delta, now - 20 * Second, now - 10 * Second, 30));
        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Delta, now - 10 * Second, now, 12));

        Assert.Equal(42, (await Credits(server)).Sum(m => m.Reserved), 6);
    }

    [Fact]
    public async Task A_cumulative_series_with_a_new_start_time_counts_again_from_zero()
    {
        await using var server = await TelemetryServer.StartAsync();
        var now = OtlpRequests.Now;
        var firstStart = now - 30 * Second;
        var restart = now - 10 * Second;

        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Cumulative, firstStart, now - 20 * Second, 100));
        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Cumulative, firstStart, now - 15 * Second, 140));
        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Cumulative, restart, now - 5 * Second, 7));
        await server.PostAsync("metrics", OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Cumulative, restart, now, 9));

        Assert.Equal(149, (await Credits(server)).Sum(m => m.Reserved), 6);
    }

    [Fact]
    public async Task A_repeated_cumulative_export_is_not_counted_twice()
    {
        await using var server = await TelemetryServer.StartAsync();
        var now = OtlpRequests.Now;
        var export = OtlpRequests.Counter("billing", Reserved, AggregationTemporality.Cumulative, now - 20 * Second, now, 25);

        await server.PostAsync("metrics", export);
        await server.PostAsync("metrics", export);

        Assert.Equal(25, (await Credits(server)).Sum(m => m.Reserved), 6);
    }

    private static Task<List<CreditPoint>> Credits(TelemetryServer server) =>
        server.GetAsync<List<CreditPoint>>("api/telemetry/metrics/credits?minutes=5");
}
