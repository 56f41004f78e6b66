using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Gateway.Hosting.Orchestration;
using Gateway.Hosting.Servers;
using Microsoft.Extensions.Hosting;

namespace Gateway.Hosting.Dashboard;

/// <summary>One queue's depth at one moment.</summary>
internal sealed record QueueDepth(string Name, long Ready, long Unacknowledged, int Consumers);

/// <summary>The depths of every queue at one moment (queues with nothing in them are left out of the history).</summary>
internal sealed record QueueSample(DateTimeOffset Time, IReadOnlyDictionary<string, long> Depths);

/// <summary>
/// Reads RabbitMQ's queue depths from its management plugin every 5 seconds and keeps the last 30 minutes, for the
/// dashboard's chart. Nothing is kept when the AppHost does not run RabbitMQ itself.
/// </summary>
internal sealed class QueueMonitor(Orchestrator orchestrator) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private const int SamplesKept = 360;
    private readonly Queue<QueueSample> history = new();

    public IReadOnlyList<QueueDepth> Current { get; private set; } = [];

    public IReadOnlyList<QueueSample> History
    {
        get
        {
            lock (history)
            {
                return [.. history];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            if (orchestrator.RabbitMqManagementUri is { } management)
            {
                await SampleAsync(management, stoppingToken);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task SampleAsync(Uri management, CancellationToken ct)
    {
        try
        {
            var queues = await RabbitMqServer.ManagementHttp.GetFromJsonAsync<List<ManagementQueue>>(
                new Uri(management, "api/queues?columns=name,messages_ready,messages_unacknowledged,consumers"), ct) ?? [];
            Current = [.. queues.Select(q => new QueueDepth(q.Name, q.Ready, q.Unacknowledged, q.Consumers)).OrderBy(q => q.Name, StringComparer.Ordinal)];
            var sample = new QueueSample(DateTimeOffset.Now, Current.Where(q => q.Ready + q.Unacknowledged > 0).ToDictionary(q => q.Name, q => q.Ready + q.Unacknowledged));
            lock (history)
            {
                history.Enqueue(sample);
                if (history.Count > SamplesKept)
                {
                    history.Dequeue();
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            Current = []; // the broker is down or restarting: the page says so by showing no queues
        }
    }

    private sealed record ManagementQueue(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("messages_ready")] long Ready,
        [property: JsonPropertyName("messages_unacknowledged")] long Unacknowledged,
        [property: JsonPropertyName("consumers")] int Consumers);
}
