using System.Diagnostics;
using System.Net;
using Gateway.ServiceDefaults;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace Edge.Tests;

// A service behind the edge goes away under load: the edge's log says so in a line and then a summary, never a
// stack trace per request (it logged 12,400 lines in 11 s while Chat restarted).
public sealed class ForwardingFailureLogTests(GatewayInfrastructure infrastructure)
{
    private const int Burst = 300;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    // Of failing to reach Keys: refused, and no instance left once it is marked down.
    private const int Kinds = 2;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_burst_of_failed_forwards_is_one_line_and_a_summary_without_stack_traces()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Keys],
            configureServices: (service, services) =>
            {
                if (service is null) services.AddFakeLogging();
            },
            settings: new Dictionary<string, string?> { ["Gateway:RepeatedFailures:SummaryInterval"] = Interval.ToString() });
        await system[GatewayService.Keys].DisposeAsync();
        var logs = system.Edge.Provider.GetRequiredService<FakeLogCollector>();
        logs.Clear();

        using var client = system.CreateEdgeClient();
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, Burst).Select(async _ =>
        {
            using var response = await client.GetAsync("/api/keys", Ct);
            return response.StatusCode;
        }));
        var afterBurst = logs.GetSnapshot();
        var took = clock.Elapsed;
        // The summary of the burst comes at the end of its interval.
        var summaries = await Eventually.UntilAsync(() => Task.FromResult(Summaries(logs)), s => s.Sum(r => r.Count) + Announced(logs) >= Burst, TimeSpan.FromSeconds(15));

        Assert.All(answers, status => Assert.True(status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{status}"));
        var all = logs.GetSnapshot();
        TestContext.Current.SendDiagnosticMessage($"{Burst} failed forwards: {afterBurst.Count} log records during the burst, {all.Count} in all, {all.Sum(Lines)} lines:\n{string.Join("\n", all.Select(r => $"{r.Level} {r.Category}: {r.Message}"))}");
        Assert.DoesNotContain(all, record => record.Exception is not null);
        // A line per kind of failure and summary interval, whatever the count of requests: in each interval the burst
        // touched, each kind announced once, and at each interval's end summarised once (on CI a burst logged 3 records,
        // 2026-12-07: the end of an interval during it).
        var intervals = 2 + (int)(took / Interval);
        Assert.InRange(afterBurst.Count, 1, Kinds * 2 * intervals);
        Assert.Equal(Burst, Announced(logs) + summaries.Sum(r => r.Count));
        Assert.InRange(all.Count, 2, afterBurst.Count + Kinds);
    }

    private static int Announced(FakeLogCollector logs) =>
        logs.GetSnapshot().Count(r => r.Category == typeof(RepeatedFailures).FullName && r.Message.StartsWith("Forwarding to keys failed:", StringComparison.Ordinal));

    private static IReadOnlyList<(string Message, int Count)> Summaries(FakeLogCollector logs) =>
        [.. logs.GetSnapshot()
            .Where(r => r.Category == typeof(RepeatedFailures).FullName && r.Message.Contains(" times in the last ", StringComparison.Ordinal))
            .Select(r => (r.Message, int.Parse(r.Message.Split(' ')[4])))];

    private static int Lines(FakeLogRecord record) => record.Message.Split('\n').Length + (record.Exception?.ToString().Split('\n').Length ?? 0);
}
