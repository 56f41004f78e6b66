using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Hosting.Orchestration;
using Gateway.Hosting.Processes;
using Microsoft.Extensions.Hosting;

namespace Gateway.Hosting.Dashboard;

/// <summary>What the resource page shows beside a resource's state: its health, CPU and memory, measured every 2 s.</summary>
internal sealed record ResourceVitals(string? Health, double? CpuPercent, long? MemoryBytes);

/// <summary>
/// Samples every 2 seconds what the orchestrator does not know by itself: whether each project's readiness check
/// answers, and what each resource's whole process tree uses (CPU as a share of one core, proportional memory).
/// </summary>
internal sealed class ResourceMonitor(Orchestrator orchestrator) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    // Linux reports CPU time in clock ticks of 1/100 s on every architecture .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly ConcurrentDictionary<string, ResourceVitals> vitals = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (ulong Ticks, long At)> lastCpu = [];

    public ResourceVitals VitalsOf(string resource) => vitals.GetValueOrDefault(resource) ?? new ResourceVitals(null, null, null);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            await SampleAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task SampleAsync(CancellationToken ct)
    {
        var rows = orchestrator.Snapshot();
        var healthUrls = orchestrator.HealthUrls();
        var processes = ProcessTable.All();
        var health = await Task.WhenAll(rows.Select(row => HealthOfAsync(row, healthUrls, ct)));
        for (var i = 0; i < rows.Count; i++)
        {
            var (cpu, memory) = Usage(rows[i], processes);
            vitals[rows[i].Name] = new ResourceVitals(health[i], cpu, memory);
        }
    }

    private static async Task<string?> HealthOfAsync(ResourceSnapshot row, IReadOnlyDictionary<string, string> healthUrls, CancellationToken ct)
    {
        if (row.State != ResourceState.Running)
        {
            return null;
        }
        if (!healthUrls.TryGetValue(row.Name, out var url))
        {
            return "Healthy"; // a server is running only once it answers
        }
        return (await HealthProbe.AskAsync(url, ct)).Ready ? "Healthy" : "Unhealthy";
    }

    private (double? Cpu, long? Memory) Usage(ResourceSnapshot row, IReadOnlyList<ProcessEntry> processes)
    {
        if (row.Pid is not { } pid || processes.FirstOrDefault(p => p.Pid == pid) is not { } main)
        {
            lastCpu.Remove(row.Name);
            return (null, null);
        }
        var tree = ProcessTable.TreeAndGroup(pid, main.StartTicks, processes);
        var ticks = tree.Aggregate(0UL, (sum, p) => sum + p.CpuTicks);
        var memory = tree.Sum(ProportionalBytes);
        var now = Stopwatch.GetTimestamp();
        double? cpu = null;
        if (lastCpu.TryGetValue(row.Name, out var last) && ticks >= last.Ticks)
        {
            var seconds = Stopwatch.GetElapsedTime(last.At, now).TotalSeconds;
            cpu = seconds > 0 ? Math.Round((ticks - last.Ticks) / TicksPerSecond / seconds * 100, 1) : null;
        }
        lastCpu[row.Name] = (ticks, now);
        return (cpu, memory);
    }

    /// <summary>
    /// The process's proportional set size (shared pages divided among the processes sharing them), so that Postgres's
    /// shared buffers count once across its backends; its resident size when the kernel does not say.
    /// </summary>
    private static long ProportionalBytes(ProcessEntry process)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{process.Pid}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(4).Trim().TrimEnd("kB").Trim()) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Gone, or not ours to read.
        }
        return process.ResidentPages * Environment.SystemPageSize;
    }
}
