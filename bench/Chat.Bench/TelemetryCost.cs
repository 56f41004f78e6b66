using Gateway.Testing.Faults;
using static Gateway.Bench.Chat.Load;

namespace Gateway.Bench.Chat;

// Telemetry's cost on a real run (issue 16): the real AppHost (Aspire.Hosting.Testing, every service its own process)
// three times side by side — without Aspire's dashboard; with it, every service exporting logs, metrics and every
// trace over OTLP; with it and traces sampled as configured (Gateway:Telemetry:TracesPerSecond) — and the same metered
// streamed chat load on all three in the same seconds, so whatever else the machine does weighs on each alike: an open
// loop alternating request by request (the chat path's added latency over MockLlm direct), then a closed loop on each
// at once (throughput, and CPU per request read from each system's own processes). The ratios are each setup's over
// the one without telemetry; --telemetry N repeats the measurement N times on the same systems.
public static class TelemetryCost
{
    private static readonly string[] Services = ["edge", "identity", "keys", "billing", "chat", "devices", "mockllm"];
    private static readonly string[] Servers = ["postgres", "redis", "rabbitmq", "aspire-dashboard"];

    private sealed record Setup(string Name, bool Dashboard, Dictionary<string, string> Environment);

    private static readonly Setup[] Setups =
    [
        new("without", false, []),
        new("every trace", true, new() { ["Gateway__Telemetry__TracesPerSecond"] = "0" }),
        new("sampled", true, []),
    ];

    private sealed record Running(Setup Setup, FaultSystem System, Target Edge);

    private sealed record Figures(Setup Setup, double AddedP50, double AddedP99, double Rps, double EdgeCpu, double ChatCpu, double StackCpu);

    public static async Task RunAsync(int seconds, int rate, int callers, int rounds)
    {
        Console.WriteLine($"Telemetry's cost on the real AppHost: {string.Join(", ", Setups.Select(s => s.Name))} side by side, {seconds} s a run, " +
            $"{rate}/s open loop shared by the three, {callers} callers on each in the closed loop, {rounds} round(s); {Environment.ProcessorCount} cores");
        var running = new List<Running>();
        try
        {
            foreach (var setup in Setups)
            {
                running.Add(await StartAsync(setup));
            }
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2048, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
            {
                Timeout = TimeSpan.FromSeconds(30),
            };
            var direct = new Target("direct MockLlm", new Uri(running[0].System.Endpoint("mockllm"), "/v1/chat/completions"), null);

            // Warm-up, unmeasured (the JIT's second pass, and the code a heavy load reaches).
            await ClosedLoopAsync(http, direct, 16, 2);
            foreach (var system in running)
            {
                await ClosedLoopAsync(http, system.Edge, 16, 3);
                await ClosedLoopAsync(http, system.Edge, callers, 5);
            }

            var figures = new List<Figures>();
            for (var round = 1; round <= rounds; round++)
            {
                Console.WriteLine($"round {round}, load average {LoadAverage()}");
                Console.WriteLine($"{"run",-44} {"RPS",8} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
                var open = await AlternatingAsync(http, [direct, .. running.Select(r => r.Edge)], rate, seconds);
                Print($"{direct.Name} @ {rate / open.Length}/s", open[0]);
                var before = running.Select(r => Cpu(r.System)).ToList();
                var closed = await Task.WhenAll(running.Select(r => ClosedLoopAsync(http, r.Edge, callers, seconds)));
                var after = running.Select(r => Cpu(r.System)).ToList();
                for (var i = 0; i < running.Count; i++)
                {
                    Print($"{running[i].Edge.Name} @ {rate / open.Length}/s", open[i + 1]);
                    Print($"{running[i].Edge.Name}, {callers} callers", closed[i]);
                    var requests = closed[i].Latencies.Length;
                    double PerRequest(string part) => (after[i][part] - before[i][part]) * 10.0 / requests; // 100 ticks a second
                    Console.WriteLine($"  CPU ms per request: edge {PerRequest("edge"):0.000}, chat {PerRequest("chat"):0.000}, billing {PerRequest("billing"):0.000}, " +
                        $"postgres {PerRequest("postgres"):0.000}, dashboard {PerRequest("aspire-dashboard"):0.000}, whole stack {PerRequest("all"):0.00}");
                    figures.Add(new Figures(running[i].Setup, open[i + 1].P(50) - open[0].P(50), open[i + 1].P(99) - open[0].P(99), closed[i].Rps,
                        PerRequest("edge"), PerRequest("chat"), PerRequest("all")));
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
        finally
        {
            foreach (var system in running)
            {
                await system.System.DisposeAsync();
            }
        }
    }

    private static async Task<Running> StartAsync(Setup setup)
    {
        var system = await FaultSystem.StartAsync(dashboard: setup.Dashboard, environment: setup.Environment);
        var otlp = system.Pid("edge") is { } pid && File.ReadAllText($"/proc/{pid}/environ").Contains("OTEL_EXPORTER_OTLP_ENDPOINT=");
        if (otlp != setup.Dashboard)
        {
            await system.DisposeAsync();
            throw new InvalidOperationException($"The edge {(otlp ? "has" : "has no")} OTLP endpoint ({setup.Name}).");
        }
        var users = await system.SignUpAsync("bench-", 16, 1_000_000_000, CancellationToken.None);
        return new Running(setup, system, new Target($"edge, {setup.Name}", new Uri(system.Edge, "/v1/chat/completions"), [.. users.Select(u => u.ApiKey)]));
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
