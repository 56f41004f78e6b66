using Gateway.Testing.Faults;
using static Gateway.Bench.Chat.Load;

namespace Gateway.Bench.Chat;

// Telemetry's cost on a real run (issue 16): the real AppHost (Aspire.Hosting.Testing, every service its own process)
// started without Aspire's dashboard, then with it — every service then exports its logs, traces and metrics over OTLP,
// as under ./run.sh — once tracing every request and once as configured (Gateway:Telemetry:TracesPerSecond), for the
// rounds asked. In each: the metered chat path's added latency over MockLlm
// direct at a fixed rate, then a closed loop's throughput and CPU per request, the edge's own apart. The ratios at the
// end are each setup's over the one without telemetry, from the same sitting.
public static class TelemetryCost
{
    private static readonly string[] Services = ["edge", "identity", "keys", "billing", "chat", "devices", "mockllm"];
    private static readonly string[] Servers = ["postgres", "redis", "rabbitmq", "aspire-dashboard"];

    public static async Task RunAsync(int seconds, int rate, int callers, int rounds)
    {
        Console.WriteLine($"Telemetry's cost on the real AppHost: {rounds} round(s) of {string.Join(", ", Setups.Select(s => s.Name))}, {seconds} s a run, " +
            $"{rate}/s open loop, {callers} callers closed loop; {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine($"{"run",-44} {"RPS",8} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        var figures = new List<Figures>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var setup in Setups)
            {
                figures.Add(await MeasureAsync(setup, seconds, rate, callers));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"{"",-26} {"added p50",10} {"added p99",10} {"RPS",8} {"edge ms/req",12} {"chat ms/req",12} {"stack ms/req",13}");
        foreach (var f in figures)
        {
            Console.WriteLine($"{f.Setup.Name,-26} {f.AddedP50,10:0.0} {f.AddedP99,10:0.0} {f.Rps,8:0} {f.EdgeCpu,12:0.000} {f.ChatCpu,12:0.000} {f.StackCpu,13:0.00}");
        }
        var without = figures.Where(f => f.Setup == Setups[0]).ToList();
        foreach (var setup in Setups.Skip(1))
        {
            var with = figures.Where(f => f.Setup == setup).ToList();
            double Ratio(Func<Figures, double> figure) => with.Average(figure) / without.Average(figure);
            Console.WriteLine($"{setup.Name + " / without",-26} {Ratio(f => f.AddedP50),9:0.00}x {Ratio(f => f.AddedP99),9:0.00}x" +
                $" {Ratio(f => f.Rps),7:0.00}x {Ratio(f => f.EdgeCpu),11:0.00}x {Ratio(f => f.ChatCpu),11:0.00}x {Ratio(f => f.StackCpu),12:0.00}x");
        }
    }

    private sealed record Setup(string Name, bool Dashboard, Dictionary<string, string> Environment);

    private static readonly Setup[] Setups =
    [
        new("without", false, []),
        new("every trace", true, new() { ["Gateway__Telemetry__TracesPerSecond"] = "0" }),
        new("sampled", true, []),
    ];

    private static async Task<Figures> MeasureAsync(Setup setup, int seconds, int rate, int callers)
    {
        var label = setup.Name;
        await using var system = await FaultSystem.StartAsync(dashboard: setup.Dashboard, environment: setup.Environment);
        var otlp = system.Pid("edge") is { } pid && File.ReadAllText($"/proc/{pid}/environ").Contains("OTEL_EXPORTER_OTLP_ENDPOINT=");
        if (otlp != setup.Dashboard)
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

        // Warm-up, unmeasured (the JIT's second pass, and the code a heavy load reaches).
        await ClosedLoopAsync(http, direct, 16, 2);
        await ClosedLoopAsync(http, edge, 16, 3);
        await ClosedLoopAsync(http, edge, callers, 5);

        var floor = await OpenLoopAsync(http, direct, rate, seconds);
        Print($"direct MockLlm @ {rate}/s", floor);
        var open = await OpenLoopAsync(http, edge, rate, seconds);
        Print($"{edge.Name} @ {rate}/s", open);
        var before = Cpu(system);
        var closed = await ClosedLoopAsync(http, edge, callers, seconds);
        var after = Cpu(system);
        Print($"{edge.Name}, {callers} callers", closed);
        double PerRequest(string part) => (after[part] - before[part]) * 10.0 / closed.Latencies.Length; // 100 ticks a second
        Console.WriteLine($"  CPU ms per request: edge {PerRequest("edge"):0.000}, chat {PerRequest("chat"):0.000}, billing {PerRequest("billing"):0.000}, " +
            $"postgres {PerRequest("postgres"):0.000}, dashboard {PerRequest("aspire-dashboard"):0.000}, whole stack {PerRequest("all"):0.00}");
        return new Figures(setup, open.P(50) - floor.P(50), open.P(99) - floor.P(99), closed.Rps, PerRequest("edge"), PerRequest("chat"), PerRequest("all"));
    }

    private sealed record Figures(Setup Setup, double AddedP50, double AddedP99, double Rps, double EdgeCpu, double ChatCpu, double StackCpu);

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
