using Gateway.Hosting.Servers;
using Gateway.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;

namespace ServiceDefaults.Tests;

// RabbitMQ goes away for a while and comes back: every service's MassTransit retries its connection all along, and
// the log says so in a bounded number of lines (a broker restart once added 2,700 lines of reconnect traces).
// This class runs its own broker, so stopping it disturbs no other test class.
public sealed class BrokerOutageLogTests(GatewayInfrastructure infrastructure)
{
    // Long enough for several of MassTransit's reconnect attempts on every endpoint.
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(15);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_broker_outage_is_logged_in_a_bounded_number_of_lines_without_stack_traces()
    {
        await using var broker = await LocalServers.StartAsync(builder => builder.AddRabbitMQServer("rabbitmq"), Ct);
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Devices],
            configureServices: (_, services) => services.AddFakeLogging(),
            settings: new Dictionary<string, string?>
            {
                ["ConnectionStrings:rabbitmq"] = await broker.ConnectionStringAsync("rabbitmq"),
                ["Gateway:RepeatedFailures:SummaryInterval"] = "00:00:05",
            });
        IServiceHost[] hosts = [system[GatewayService.Identity], system[GatewayService.Devices], system.Edge];
        await Task.WhenAll(hosts.Select(ReadyAsync));
        foreach (var host in hosts) Logs(host).Clear();

        await broker.StopAsync("rabbitmq", Ct);
        await Task.Delay(Outage, Ct); // the outage itself: how long MassTransit has to keep retrying
        await broker.StartAsync("rabbitmq", Ct);
        await Task.WhenAll(hosts.Select(ReadyAsync));

        var records = hosts.SelectMany(host => Logs(host).GetSnapshot().Select(r => (Host: host, Record: r))).ToList();
        var lines = records.Sum(r => r.Record.Message.Split('\n').Length + (r.Record.Exception?.ToString().Split('\n').Length ?? 0));
        TestContext.Current.SendDiagnosticMessage($"{Outage.TotalSeconds:0} s broker outage, 3 hosts: {records.Count} log records, {lines} lines:\n" +
            string.Join("\n", records.Select(r => $"{r.Record.Level} {r.Record.Category}: {r.Record.Message}{(r.Record.Exception is null ? "" : " [+exception]")}")));
        Assert.DoesNotContain(records, r => r.Record.Exception is not null);
        Assert.InRange(lines, 1, 10 * hosts.Length);
        // Not silenced: each service that consumes said the broker went away, and that it came back. (Identity only
        // publishes, through its outbox, which says so when a publish fails; readiness says so in every service.)
        IServiceHost[] consuming = [system[GatewayService.Devices], system.Edge];
        Assert.All(consuming, host => Assert.Contains(records, r => r.Host == host && r.Record.Message.StartsWith("Connecting to RabbitMQ failed: ", StringComparison.Ordinal)));
        Assert.All(consuming, host => Assert.Contains(records, r => r.Host == host && r.Record.Message.StartsWith("Connecting to RabbitMQ works again", StringComparison.Ordinal)));
    }

    // Every receive endpoint of the host's bus connected (again).
    private static async Task ReadyAsync(IServiceHost host)
    {
        var bus = host.Provider.GetRequiredService<IBusControl>();
        var health = await Eventually.UntilAsync(() => Task.FromResult(bus.CheckHealth()), h => h.Status == BusHealthStatus.Healthy, TimeSpan.FromSeconds(90));
        Assert.True(health.Status == BusHealthStatus.Healthy, $"{host.Address}: {health.Description}");
    }

    private static FakeLogCollector Logs(IServiceHost host) => host.Provider.GetRequiredService<FakeLogCollector>();
}
