using Gateway.Testing.Faults;
using static Gateway.Bench.Chat.Load;

namespace Gateway.Bench.Chat;

// Set-ups of the real AppHost (Aspire.Hosting.Testing, every service its own process) compared under the same load,
// started one after the other, for the rounds asked:
// - Telemetry (issue 16): without Aspire's dashboard, then with it — every service then exports its logs, traces and
//   metrics over OTLP, as under ./run.sh — once tracing every request and once as configured
//   (Gateway:Telemetry:TracesPerSecond); and as configured with the receiver down (the services record and export as
//   with the dashboard, to a closed port): what a collector that is down costs the services;
// - Replicas (issue 21): one instance of the edge and of each service, then two (--replicas 2).
// In each, after a warm-up: the metered chat path's added latency over MockLlm direct and the CPU per request of each
// process at a fixed rate, then a closed loop's throughput (and CPU per request when saturated), and the holds Billing
// made per request served (standby holds are kept per Chat instance). The ratios at the end are each set-up's over the
// first one's, from the same sitting.
public static class SystemCost
{
    public sealed record Setup(string Name, bool Dashboard, Dictionary<string, string> Environment, int Replicas = 1)
    {
        public bool Exports => Dashboard || Environment.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT");
    }

    public static readonly Setup[] Telemetry =
    [
        new("without", false, []),
        new("every trace", true, new() { ["Gateway__Telemetry__TracesPerSecond"] = "0" }),
        new("sampled", true, []),
        new("sampled, receiver down", false, new()
        {
            // As WithDashboardTelemetry sets them with the dashboard; nothing listens on port 9, so each export fails at once.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "5000",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "5000",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
        }),
    ];

    public static readonly Setup[] Replicas =
    [
        new("one of each", false, []),
        new("two of each", false, [], Replicas: 2),
    ];

    private static readonly string[] Services = ["edge", "identity", "keys", "billing", "chat", "devices", "mockllm"];
    private static readonly string[] Servers = ["postgres", "redis", "rabbitmq", "aspire-dashboard"];

    public static async Task RunAsync(IReadOnlyList<Setup> setups, int seconds, int rate, int callers, int rounds, int warmUp)
    {
        Console.WriteLine($"The real AppHost: {rounds} round(s) of {string.Join(", ", setups.Select(s => s.Name))}, {seconds} s a run, " +
            $"{rate}/s open loop, {callers} callers closed loop; {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine($"{"run",-44} {"RPS",8} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        var figures = new List<Figures>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var setup in setups)
            {
                figures.Add(await MeasureAsync(setup, seconds, rate, callers, warmUp));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"{"",-26} {"added p50",10} {"added p99",10} {"RPS",8} {"edge ms/req",12} {"chat ms/req",12} {"stack ms/req",13} {"holds/req",10}  (CPU at {rate}/s)");
        foreach (var f in figures)
        {
            Console.WriteLine($"{f.Setup.Name,-26} {f.AddedP50,10:0.0} {f.AddedP99,10:0.0} {f.Rps,8:0} {f.EdgeCpu,12:0.000} {f.ChatCpu,12:0.000} {f.StackCpu,13:0.00} {f.HoldsPerRequest,10:0.00}");
        }
        var first = figures.Where(f => f.Setup == setups[0]).ToList();
        foreach (var setup in setups.Skip(1))
        {
            var with = figures.Where(f => f.Setup == setup).ToList();
            double Ratio(Func<Figures, double> figure) => with.Average(figure) / first.Average(figure);
            Console.WriteLine($"{setup.Name + " / " + setups[0].Name,-26} {Ratio(f => f.AddedP50),9:0.00}x {Ratio(f => f.AddedP99),9:0.00}x" +
                $" {Ratio(f => f.Rps),7:0.00}x {Ratio(f => f.EdgeCpu),11:0.00}x {Ratio(f => f.ChatCpu),11:0.00}x {Ratio(f => f.StackCpu),12:0.00}x");
        }
    }

    private static async Task<Figures> MeasureAsync(Setup setup, int seconds, int rate, int callers, int warmUp)
    {
        var label = setup.Name;
        await using var system = await FaultSystem.StartAsync(dashboard: setup.Dashboard, environment: ProfiledEnvironment(setup), replicas: setup.Replicas);
        var otlp = system.Pid("edge") is { } pid && File.ReadAllText($"/proc/{pid}/environ").Contains("OTEL_EXPORTER_OTLP_ENDPOINT=");
        if (otlp != setup.Exports)
        {
            throw new InvalidOperationException($"The edge {(otlp ? "has" : "has no")} OTLP endpoint ({label}).");
        }
        var users = await system.SignUpAsync("bench-", 16, 1_000_000_000, CancellationToken.None);
        var keys = users.Select(u => u.ApiKey).ToList();
        var model = system.Endpoint("mockllm");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        var direct = new Target("direct MockLlm", new Uri(model, "/v1/chat/completions"), null);
        var edge = new Target($"edge, {label}", new Uri(system.Edge, "/v1/chat/completions"), keys);

        // Warm-up, unmeasured: long enough for tiered compilation to finish (--warm-up, 90 s). After 20 s the services were
        // still compiling, more so with telemetry (more code to tier up), which read as its cost (docs/running.md, 2026-12-07).
        await ClosedLoopAsync(http, direct, 16, 2);
        await ClosedLoopAsync(http, edge, callers, Math.Max(warmUp, seconds));

        var floor = await OpenLoopAsync(http, direct, rate, seconds);
        Print($"direct MockLlm @ {rate}/s", floor);
        // CPU per request at a fixed rate below saturation (the figure that matters), and at saturation: once the cores
        // are full, idle spinning and a dashboard taking its share inflate every process's CPU per request.
        using (Profile(system, setup, seconds))
        {
            var (before, holdsBefore) = (Cpu(system), await system.HoldsMadeAsync(users, CancellationToken.None));
            var open = await OpenLoopAsync(http, edge, rate, seconds);
            var cpu = PerRequest(before, Cpu(system), open.Latencies.Length);
            var holdsPerRequest = (double)(await system.HoldsMadeAsync(users, CancellationToken.None) - holdsBefore) / open.Latencies.Length;
            Print($"{edge.Name} @ {rate}/s", open);
            PrintCpu(cpu);
            before = Cpu(system);
            var closed = await ClosedLoopAsync(http, edge, callers, seconds);
            var saturated = PerRequest(before, Cpu(system), closed.Latencies.Length);
            Print($"{edge.Name}, {callers} callers", closed);
            PrintCpu(saturated);
            return new Figures(setup, open.P(50) - floor.P(50), open.P(99) - floor.P(99), closed.Rps, cpu, saturated, holdsPerRequest);
        }
    }

    // CPU ms per request of each part, from ticks read before and after (100 ticks a second).
    private static Dictionary<string, double> PerRequest(Dictionary<string, double> before, Dictionary<string, double> after, int requests) =>
        after.ToDictionary(part => part.Key, part => (part.Value - before[part.Key]) * 10.0 / requests);

    private static void PrintCpu(Dictionary<string, double> cpu) =>
        Console.WriteLine($"  CPU ms per request: edge {cpu["edge"]:0.000}, chat {cpu["chat"]:0.000}, billing {cpu["billing"]:0.000}, " +
            $"postgres {cpu["postgres"]:0.000}, dashboard {cpu["aspire-dashboard"]:0.000}, whole stack {cpu["all"]:0.00}");

    // With BENCH_PERF=<folder>: `perf record` of the edge, Chat and Billing over the fixed-rate run, one file each per set-up
    // (the services then write perf maps so that perf names the JIT's code: `perf report -i <file>`).
    private static readonly string? PerfFolder = System.Environment.GetEnvironmentVariable("BENCH_PERF");

    private static Dictionary<string, string> ProfiledEnvironment(Setup setup) => PerfFolder is null
        ? setup.Environment
        : new(setup.Environment) { ["DOTNET_PerfMapEnabled"] = "1", ["DOTNET_EnableWriteXorExecute"] = "0" };

    private static IDisposable? Profile(FaultSystem system, Setup setup, int seconds)
    {
        if (PerfFolder is null) return null;
        var recorders = new[] { "edge", "chat", "billing" }.Select(resource => System.Diagnostics.Process.Start("perf",
            $"record -F 499 -g -o {PerfFolder}/{setup.Name.Replace(' ', '-')}-{resource}.data -p {system.Pid(resource)} -- sleep {seconds}")).ToList();
        return new Finally(() => recorders.ForEach(recorder => recorder.WaitForExit()));
    }

    private sealed class Finally(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private sealed record Figures(Setup Setup, double AddedP50, double AddedP99, double Rps, Dictionary<string, double> Cpu, Dictionary<string, double> SaturatedCpu, double HoldsPerRequest)
    {
        public double EdgeCpu => Cpu["edge"];
        public double ChatCpu => Cpu["chat"];
        public double StackCpu => Cpu["all"];
    }

    // CPU ticks used so far by each of the system's processes (with the processes under them), and by all of them.
    private static Dictionary<string, double> Cpu(FaultSystem system)
    {
        var ticks = Services.Concat(Servers).ToDictionary(resource => resource, resource => system.Processes(resource).Sum(Ticks));
        ticks["all"] = ticks.Values.Sum();
        return ticks;
    }

    private static double Ticks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime + stime, and cutime + cstime: the children it reaped (a Postgres backend that closed) count too.
            return double.Parse(fields[11]) + double.Parse(fields[12]) + double.Parse(fields[13]) + double.Parse(fields[14]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0; // ended meanwhile
        }
    }

}
