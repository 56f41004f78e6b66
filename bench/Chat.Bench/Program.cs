// Chat's added latency and throughput, in one run on this machine:
//   direct  MockLlm called directly (60 ms to the first token), the floor
//   edge    the same request through the edge with an sk_live_ key: authenticate, reserve in Billing,
//           stream, persist usage + outbox, capture in Billing
//   responses the same answer through the edge as OpenAI's Responses API (POST /v1/responses, translated to the chat
//           upstream, streamed as typed events), metered the same way; run alternating with edge's requests at each
//           rate, so the difference is what the translation adds
//   portkey Portkey's open-source gateway (node) proxying the same MockLlm: no auth, no metering
// at fixed rates (open loop) and then the most a closed loop of callers can push through each gateway; at the
// end, how many requests took a standby hold (services/Chat/Metering/StandbyHolds.cs) and how many reserved.
// Usage: bench/Chat.Bench/run.sh [--seconds 10 --clients 64,160 --rates 100,300] (--clients 0: no closed loop) (installs Portkey, passes --portkey PATH);
// without --portkey, Portkey is left out.
// --telemetry ROUNDS: instead, telemetry's cost on the real AppHost, without and with Aspire's dashboard receiving every
// service's OTLP; --replicas ROUNDS: one instance of each against two (SystemCost.cs), at --rates' first rate and
// --clients' largest count; --setups "NAME;NAME" runs only those set-ups, in that order (the first is the baseline);
// --warm-up SECONDS (90) of closed-loop load before each set-up is measured (the edge's path, in the load runs).
// --breakdown N: instead of the load runs, N requests one at a time through the edge from one caller (busy, so
// standby holds serve them), and where each one's time went (Breakdown.cs): every span's median duration,
// database round trips, the outbox's delay.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Bench.Chat;
using static Gateway.Bench.Chat.Load;
using Gateway.Chat.Infrastructure;
using Gateway.MockLlm;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var seconds = Argument("--seconds", 10);
// Closed loops at each of these caller counts; the most a gateway sustained is the best of them. With 60 ms to the
// first token, 64 callers cannot exceed 64 / 0.060 ≈ 1,070 RPS however fast the gateway is, so more are needed
// to find a gateway's maximum.
var clients = (Option("--clients") ?? "64,160").Split(',').Select(int.Parse).Where(c => c > 0).ToArray();
var portkeyServer = Option("--portkey");
var breakdownRequests = Argument("--breakdown", 0);
var rates = (Option("--rates") ?? "100,300").Split(',').Select(int.Parse).ToArray();
var warmUp = Argument("--warm-up", 90);
if ((Argument("--telemetry", 0), Argument("--replicas", 0)) is var (telemetry, replicas) && telemetry + replicas > 0)
{
    var setups = telemetry > 0 ? SystemCost.Telemetry : SystemCost.Replicas;
    if (Option("--setups")?.Split(';') is { } named)
    {
        setups = [.. named.Select(name => setups.FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"--setups: no set-up is named '{name}' (there are: {string.Join(", ", setups.Select(s => s.Name))})."))];
    }
    await SystemCost.RunAsync(setups, seconds, rates[0], clients.DefaultIfEmpty(160).Max(), Math.Max(telemetry, replicas), warmUp);
    return;
}
using var breakdown = breakdownRequests > 0 ? new Breakdown() : null;
const int Users = 16;
long standbyHolds = 0, ownHolds = 0;
using var holds = new System.Diagnostics.Metrics.MeterListener
{
    InstrumentPublished = (instrument, listener) =>
    {
        if (instrument.Name == "gateway.chat.holds") listener.EnableMeasurementEvents(instrument);
    },
};
holds.SetMeasurementEventCallback<long>((_, value, tags, _) =>
{
    foreach (var tag in tags)
    {
        if (tag.Key == "standby") Interlocked.Add(ref (tag.Value is true ? ref standbyHolds : ref ownHolds), value);
    }
});
holds.Start();
const string ResponseBody = """{"model":"local-model","stream":true,"max_output_tokens":32,"input":"Say something short [mock:tokens=8]"}""";

Console.WriteLine("Starting Postgres, Redis, RabbitMQ, MockLlm, Identity, Keys, Billing, Chat and the edge …");
var infrastructure = new GatewayInfrastructure();
await infrastructure.InitializeAsync();
await using var model = await MockLlmServer.StartAsync(new MockLlmOptions { FirstTokenLatency = TimeSpan.FromMilliseconds(60) });
try
{
    await using var system = await GatewaySystem.StartAsync(infrastructure,
        [GatewayService.Identity, GatewayService.Keys, GatewayService.Billing, GatewayService.Chat],
        configureServices: (_, services) => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)),
        settings: new Dictionary<string, string?>
        {
            ["Billing:Ledger:SignUpGrant"] = "1000000000",
            ["Chat:Upstream:BaseUrl"] = model.BaseUrl.ToString(),
            ["Logging:LogLevel:Default"] = "Warning",
        });

    var keys = new List<string>();
    for (var i = 0; i < Users; i++)
    {
        var user = await system.RegisterUserAsync();
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "bench" });
        keys.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!);
    }
    await Task.Delay(2000); // sign-up grants

    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };
    var direct = new Target("direct MockLlm", new Uri(model.BaseUrl, "chat/completions"), null);
    var edge = new Target("edge + API key (metered)", new Uri(system.Edge.Address, "v1/chat/completions"), keys);
    var responses = new Target("edge + API key, /v1/responses", new Uri(system.Edge.Address, "v1/responses"), keys)
    {
        Body = ResponseBody,
        End = "event: response.completed",
    };
    await using var portkey = portkeyServer is null ? null : await Portkey.StartAsync(portkeyServer);
    var gateways = portkey is null
        ? [edge]
        : new[] { edge, new Target("Portkey gateway (node)", new Uri(portkey.Address, "v1/chat/completions"), null, Portkey.HeadersFor(model.BaseUrl)) };

    Console.WriteLine($"{Environment.ProcessorCount} cores (shared with everything above), load average {LoadAverage()}, {seconds} s a run");
    Console.WriteLine("Each request: streamed completion, 8 tokens, 60 ms to the first token; latency = until [DONE] is read.");
    Console.WriteLine();
    await ClosedLoopAsync(http, direct, 16, 2); // warm-up
    if (breakdown is not null)
    {
        await ClosedLoopAsync(http, edge, 4, 3);
        await Task.Delay(1000);
        breakdown.Clear();
        var traces = new List<ActivityTraceId>();
        for (var i = 0; i < breakdownRequests; i++)
        {
            using (var root = Breakdown.Source.StartActivity("request", ActivityKind.Client))
            {
                await OneAsync(http, edge, 0); // one caller, busy enough for standby holds
                traces.Add(root!.TraceId);
            }
            await Task.Delay(50); // lets the outbox and the capture of this request finish before the next
        }
        await Task.Delay(1000);
        breakdown.Print(traces);
        return;
    }
    // Warm-up, unmeasured: a .NET process compiles its code again, optimized, in its first seconds of traffic, and a
    // heavy load reaches code a light one does not (batches, more holds); a first loaded run measured the JIT too.
    foreach (var gateway in gateways.Append(responses))
    {
        await ClosedLoopAsync(http, gateway, 16, 3);
        await ClosedLoopAsync(http, gateway, clients.DefaultIfEmpty(16).Max(), gateway == edge ? warmUp : 5);
    }
    if (portkey is null)
    {
        Console.WriteLine("Portkey not run: bench/Chat.Bench/run.sh installs it and passes --portkey.");
    }

    Console.WriteLine($"{"run",-40} {"RPS",8} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
    foreach (var rate in rates)
    {
        var floor = await OpenLoopAsync(http, direct, rate, seconds);
        Print($"{direct.Name} @ {rate}/s", floor);
        foreach (var gateway in gateways)
        {
            var run = await OpenLoopAsync(http, gateway, rate, seconds);
            Print($"{gateway.Name} @ {rate}/s", run);
            Console.WriteLine($"{"  added over direct",-40} {"",8} {run.P(50) - floor.P(50),8:0.0} {run.P(99) - floor.P(99),8:0.0}");
        }
        // The Responses API against chat completions in the same seconds, alternating request by request, so that
        // whatever else the machine does weighs on both alike.
        var pair = await AlternatingAsync(http, [edge, responses], rate, seconds);
        Print($"  alternating: completions @ {rate / 2}/s", pair[0]);
        Print($"  alternating: responses @ {rate / 2}/s", pair[1]);
        Console.WriteLine($"{"  responses added over completions",-40} {"",8} {pair[1].P(50) - pair[0].P(50),8:0.0} {pair[1].P(99) - pair[0].P(99),8:0.0}");
    }
    foreach (var gateway in clients.Length > 0 ? gateways : [])
    {
        Run? best = null;
        foreach (var callers in clients)
        {
            var cpu = CpuTime.Now();
            var run = await ClosedLoopAsync(http, gateway, callers, seconds);
            Print($"{gateway.Name}, {callers} callers, closed loop", run);
            Console.WriteLine($"  CPU ms per request: {CpuTime.Now().PerRequestSince(cpu, run.Latencies.Length)}");
            if (run.Errors == 0 && run.Rps > (best?.Rps ?? 0)) best = run;
        }
        Console.WriteLine($"{"  most sustained (no errors)",-40} {best?.Rps ?? 0,8:0}");
    }

    // Every successful metered request left exactly one usage row.
    await using var scope = system[GatewayService.Chat].Provider.CreateAsyncScope();
    var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
    await Task.Delay(3000);
    Console.WriteLine();
    Console.WriteLine($"holds: {standbyHolds} taken from standby, {ownHolds} reserved on the request's path");
    Console.WriteLine($"usage rows: {await db.Usage.CountAsync()}, outbox rows not yet published: {await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().CountAsync(m => m.PublishedAt == null)}");
}
finally
{
    await infrastructure.DisposeAsync();
}

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Argument(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
}
