using Gateway.Hosting.Dashboard.Telemetry;

namespace Gateway.Dashboard.Tests;

public sealed class BoundsTests
{
    [Fact]
    public async Task Three_times_MaxSpans_spans_keep_exactly_the_newest_MaxSpans()
    {
        await using var server = await TelemetryServer.StartAsync(new() { ["Dashboard:Telemetry:MaxSpans"] = "100" });

        foreach (var batch in Enumerable.Range(0, 300).Chunk(50))
        {
            (await server.PostAsync("traces", OtlpRequests.Spans("chat", batch))).EnsureSuccessStatusCode();
        }

        var traces = await server.GetAsync<List<TraceSummary>>("api/telemetry/traces?limit=1000");
        Assert.Equal(100, traces.Sum(t => t.SpanCount));
        Assert.Equal(Enumerable.Range(200, 100).Select(n => OtlpRequests.Hex(n, 16)).Order(), traces.Select(t => t.TraceId).Order());
    }

    [Fact]
    public async Task Three_times_MaxLogs_records_keep_exactly_the_newest_MaxLogs()
    {
        await using var server = await TelemetryServer.StartAsync(new() { ["Dashboard:Telemetry:MaxLogs"] = "100" });

        foreach (var batch in Enumerable.Range(0, 300).Chunk(50))
        {
            (await server.PostAsync("logs", OtlpRequests.Logs("chat", batch))).EnsureSuccessStatusCode();
        }

        var logs = await server.GetAsync<List<LogView>>("api/telemetry/logs?limit=10000");
        Assert.Equal(Enumerable.Range(200, 100).Select(n => $"message {n}").Order(), logs.Select(l => l.Message).Order());
    }
}
