// The edge's cost, measured against baselines in the same run on this machine:
//   direct      wrk → a trivial upstream endpoint
//   nginx       wrk → nginx (Debian) → the same endpoint
//   bare YARP   wrk → YARP forwarding and nothing else (BareYarp.cs) → the same endpoint: the framework's floor
//   edge        wrk → edge (no credential) → the same endpoint
//   edge + key  wrk → edge with an API key (cache hit) → the same endpoint
// and the time from DELETE /api/keys/{id} returning to that key being refused at the edge.
// Run: bench/Edge.Bench/run.sh   (installs wrk and nginx when missing)
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Bench.Edge;
using Gateway.Testing;

if (args is [BareYarp.Switch, var forwardTo, var listenOn])
{
    await BareYarp.RunAsync(forwardTo, listenOn);
    return;
}

var duration = args.Length > 0 ? int.Parse(args[0]) : 10;
var revocations = args.Length > 1 ? int.Parse(args[1]) : 200;

var infrastructure = new GatewayInfrastructure();
await infrastructure.InitializeAsync();
try
{
    var callerKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    // The key cache's MAC key, the same for both edges here since they share one Redis database.
    var edgeCacheKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    await using var upstream = await Upstream.StartAsync();
    // Identity and Keys run in this process (sign-up, key creation, key resolution on a cache miss)…
    await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys],
        settings: new Dictionary<string, string?>
        {
            ["Gateway:CallerToken:Key"] = callerKey,
            ["Edge:ApiKeys:CacheKey"] = edgeCacheKey,
            ["Logging:LogLevel:Default"] = "Warning",
        });
    // …while the measured edge is its own Release process, as nginx is; /api/usage/** (the billing
    // cluster) leads to the trivial upstream.
    await using var edgeProcess = await EdgeProcess.StartAsync(new Dictionary<string, string>
    {
        ["ConnectionStrings__redis"] = system.Resources.Redis,
        ["ConnectionStrings__rabbitmq"] = system.Resources.RabbitMq,
        ["Gateway__CallerToken__Key"] = callerKey,
        ["Edge__ApiKeys__CacheKey"] = edgeCacheKey,
        ["services__identity__http__0"] = system[GatewayService.Identity].Address.ToString().TrimEnd('/'),
        ["services__keys__http__0"] = system[GatewayService.Keys].Address.ToString().TrimEnd('/'),
        ["services__billing__http__0"] = upstream.Address,
        ["Edge__RateLimits__Groups__default__PermitLimit"] = "100000000",
        ["Edge__RateLimits__Groups__billing__PermitLimit"] = "100000000",
    });
    await using var nginx = await Nginx.StartAsync(upstream.Address);
    await using var bareYarp = await EdgeProcess.StartBareYarpAsync(upstream.Address, "/api/usage/ping");

    var user = await system.RegisterUserAsync();
    var key = await CreateKeyAsync(user.Client);
    const string path = "/api/usage/ping";
    var edge = edgeProcess.Address;

    // Every target is warmed up first, unmeasured: the edge and the upstream are .NET processes whose code is
    // compiled and then recompiled by tiered compilation in their first seconds of traffic (seen with perf:
    // a tenth of the edge's CPU was the JIT in an unwarmed run; 6.5k req/s cold, 16.5k warm). The figures are
    // steady-state ones.
    const int warmUp = 6;
    Console.WriteLine($"Warming up every target for {warmUp} s …");
    Scenario[] scenarios =
    [
        new("direct", upstream.Address + path),
        new("nginx", nginx.Address + path, ProcessId: nginx.ProcessId),
        new("bare YARP", bareYarp.Address + path, ProcessId: bareYarp.ProcessId),
        new("edge", edge + path, ProcessId: edgeProcess.ProcessId),
        new("edge + key", edge + path, $"x-api-key: {key.Key}", edgeProcess.ProcessId),
    ];
    foreach (var scenario in scenarios)
    {
        await Wrk.RunAsync(scenario.Url, warmUp, scenario.Header);
    }

    // In rounds: each round runs every scenario in turn for a few seconds, so that the machine's drift (other load,
    // the virtual machine's neighbours: ±15 % between scenarios run one after another here) weighs on all of them
    // alike. A scenario's figures are its medians over the rounds, and a ratio is the median of its rounds' ratios.
    const int roundSeconds = 2;
    var rounds = Math.Max(1, duration / roundSeconds);
    Console.WriteLine($"Each scenario: wrk, 2 threads, 32 connections, {rounds} rounds of {roundSeconds} s, GET {path}");
    var runs = scenarios.ToDictionary(s => s.Name, _ => new List<LoadResult>());
    for (var round = 0; round < rounds; round++)
    {
        foreach (var scenario in scenarios)
        {
            runs[scenario.Name].Add(await Wrk.RunAsync(scenario.Url, roundSeconds, scenario.Header, scenario.ProcessId));
        }
    }

    Console.WriteLine();
    Console.WriteLine($"{"scenario",-12} {"req/s",10} {"p50 ms",8} {"p99 ms",8} {"proxy CPU µs/req",17}");
    foreach (var (name, results) in runs)
    {
        var cpu = results[0].CpuUsPerRequest is null ? "-" : Median(results.Select(r => r.CpuUsPerRequest!.Value)).ToString("0.0");
        Console.WriteLine($"{name,-12} {Median(results.Select(r => r.RequestsPerSecond)),10:0} {Median(results.Select(r => r.P50Ms)),8:0.00} {Median(results.Select(r => r.P99Ms)),8:0.00} {cpu,17}");
    }
    // A comparison of two scenarios made within each round, its median over the rounds.
    double PerRound(string scenario, string baseline, Func<LoadResult, LoadResult, double> compare) =>
        Median(runs[scenario].Zip(runs[baseline], compare));
    double Ratio(string scenario, string baseline, Func<LoadResult, double> figure) =>
        PerRound(scenario, baseline, (a, b) => figure(a) / figure(b));
    double Cpu(LoadResult r) => r.CpuUsPerRequest!.Value;

    Console.WriteLine();
    Report("edge + key RPS / direct RPS", Ratio("edge + key", "direct", r => r.RequestsPerSecond), "≥ 0.50", r => r >= 0.5);
    Report("edge + key added p50 (ms)", PerRound("edge + key", "direct", (a, b) => a.P50Ms - b.P50Ms), "≤ 1.00", r => r <= 1.0);
    Report("edge RPS / nginx RPS", Ratio("edge", "nginx", r => r.RequestsPerSecond), "≥ 0.67", r => r >= 0.67);
    // The edge's own cost over the framework's floor, as CPU per request (steadier than throughput on a busy machine).
    Report("edge + key CPU / bare YARP CPU", Ratio("edge + key", "bare YARP", Cpu), "≤ 1.20", r => r <= 1.2);
    Console.WriteLine($"{"edge CPU / bare YARP CPU",-30} {Ratio("edge", "bare YARP", Cpu),8:0.00}   (no credential)");
    // Not a target: the edge's CPU per request against nginx's.
    Console.WriteLine($"{"edge CPU / nginx CPU per req",-30} {Ratio("edge", "nginx", Cpu),8:0.00}   (edge + key {Ratio("edge + key", "nginx", Cpu):0.00})");

    if (revocations == 0)
    {
        return; // asked for the throughput figures only
    }
    using var edgeClient = new HttpClient { BaseAddress = new Uri(edge) };
    // This process hosts Identity and Keys beside the upstream that wrk has just driven at ~100,000 req/s: collect
    // that garbage now, or a collection of it lands inside a revocation (60–96 ms tails seen, p99 63–69 ms).
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    var latencies = await MeasureRevocationsAsync(user.Client, edgeClient, revocations);
    Console.WriteLine();
    Console.WriteLine($"Revocation → refused at the edge, {latencies.Count} keys: p50 {Percentile(latencies, 50):0.0} ms, p99 {Percentile(latencies, 99):0.0} ms, max {latencies.Max():0.0} ms");
    Report("revocation p99 (ms)", Percentile(latencies, 99), "≤ 100", r => r <= 100);
}
finally
{
    await infrastructure.DisposeAsync();
}

static void Report(string name, double value, string target, Func<double, bool> met) =>
    Console.WriteLine($"{name,-30} {value,8:0.00}   target {target}   {(met(value) ? "met" : "NOT met")}");

static async Task<(Guid Id, string Key)> CreateKeyAsync(HttpClient user)
{
    using var response = await user.PostAsJsonAsync("/api/keys", new { name = "bench" });
    response.EnsureSuccessStatusCode();
    var created = await response.Content.ReadFromJsonAsync<JsonElement>();
    return (created.GetProperty("id").GetGuid(), created.GetProperty("key").GetString()!);
}

// For each key: prime the edge's cache, revoke, then poll until the edge refuses it.
static async Task<List<double>> MeasureRevocationsAsync(HttpClient user, HttpClient edge, int count)
{
    var latencies = new List<double>();
    for (var i = 0; i < count; i++)
    {
        var (id, key) = await CreateKeyAsync(user);
        using var prime = new HttpRequestMessage(HttpMethod.Get, "/api/usage/ping") { Headers = { { "x-api-key", key } } };
        (await edge.SendAsync(prime)).EnsureSuccessStatusCode();

        (await user.DeleteAsync($"/api/keys/{id}")).EnsureSuccessStatusCode();
        var revoked = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new HttpRequestMessage(HttpMethod.Get, "/api/usage/ping") { Headers = { { "x-api-key", key } } };
            using var response = await edge.SendAsync(probe);
            if (response.StatusCode == HttpStatusCode.Unauthorized) break;
            if (revoked.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("A revoked key was still accepted after 10 s.");
        }
        latencies.Add(revoked.Elapsed.TotalMilliseconds);
    }
    return latencies;
}

static double Median(IEnumerable<double> values) => Percentile(values, 50);

static double Percentile(IEnumerable<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

internal sealed record Scenario(string Name, string Url, string? Header = null, int? ProcessId = null);
