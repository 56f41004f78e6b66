// Chat's added latency and throughput, in one run on this machine:
//   direct  MockLlm called directly (60 ms to the first token), the floor
//   edge    the same request through the edge with an sk_live_ key: authenticate, reserve in Billing,
//           stream, persist usage + outbox, capture in Billing
// at fixed rates (open loop) and then the most a closed loop of callers can push through the edge.
// Portkey's gateway is not run here (see services/Chat/README.md).
// Usage: dotnet run -c Release --project bench/Chat.Bench [-- --seconds 10 --clients 64]
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Chat.Infrastructure;
using Gateway.MockLlm;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var seconds = Argument("--seconds", 10);
var clients = Argument("--clients", 64);
const int Users = 16;
const string Body = """{"model":"local-model","stream":true,"stream_options":{"include_usage":true},"max_tokens":32,"messages":[{"role":"user","content":"Say something short [mock:tokens=8]"}]}""";

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

    Console.WriteLine($"{Environment.ProcessorCount} cores (shared with everything above), load average {LoadAverage()}, {seconds} s a run");
    Console.WriteLine("Each request: streamed completion, 8 tokens, 60 ms to the first token; latency = until [DONE] is read.");
    Console.WriteLine();
    await ClosedLoopAsync(http, direct, 16, 2); // warm-up
    await ClosedLoopAsync(http, edge, 16, 3);

    Console.WriteLine($"{"run",-40} {"RPS",8} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
    foreach (var rate in new[] { 100, 300 })
    {
        var floor = await OpenLoopAsync(http, direct, rate, seconds);
        Print($"{direct.Name} @ {rate}/s", floor);
        var metered = await OpenLoopAsync(http, edge, rate, seconds);
        Print($"{edge.Name} @ {rate}/s", metered);
        Console.WriteLine($"{"  added by the gateway",-40} {"",8} {metered.P(50) - floor.P(50),8:0.0} {metered.P(99) - floor.P(99),8:0.0}");
    }
    var most = await ClosedLoopAsync(http, edge, clients, seconds);
    Print($"{edge.Name}, {clients} callers, closed loop", most);

    // Every successful metered request left exactly one usage row.
    await using var scope = system[GatewayService.Chat].Provider.CreateAsyncScope();
    var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
    await Task.Delay(3000);
    Console.WriteLine();
    Console.WriteLine($"usage rows: {await db.Usage.CountAsync()}, outbox rows not yet published: {await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().CountAsync(m => m.PublishedAt == null)}");
}
finally
{
    await infrastructure.DisposeAsync();
}

static async Task<Run> OpenLoopAsync(HttpClient http, Target target, int rate, int seconds)
{
    var total = rate * seconds;
    var tasks = new List<Task<double?>>(total);
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < total; i++)
    {
        var due = TimeSpan.FromSeconds((double)i / rate);
        if (due > clock.Elapsed)
        {
            await Task.Delay(due - clock.Elapsed);
        }
        tasks.Add(OneAsync(http, target, i));
    }
    var results = await Task.WhenAll(tasks);
    return new Run(results.OfType<double>().Order().ToArray(), results.Count(r => r is null), clock.Elapsed.TotalSeconds);
}

static async Task<Run> ClosedLoopAsync(HttpClient http, Target target, int callers, int seconds)
{
    var latencies = new List<double>();
    var errors = 0;
    var clock = Stopwatch.StartNew();
    var end = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, callers).Select(async c =>
    {
        for (var i = c; clock.Elapsed < end; i += callers)
        {
            var latency = await OneAsync(http, target, i);
            lock (latencies)
            {
                if (latency is { } l) latencies.Add(l); else errors++;
            }
        }
    }));
    return new Run(latencies.Order().ToArray(), errors, clock.Elapsed.TotalSeconds);
}

static async Task<double?> OneAsync(HttpClient http, Target target, int i)
{
    var started = Stopwatch.GetTimestamp();
    try
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        if (target.Keys is { } keys)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[i % keys.Count]);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }
        var text = await response.Content.ReadAsStringAsync();
        return text.Contains("[DONE]") ? Stopwatch.GetElapsedTime(started).TotalMilliseconds : null;
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
    {
        return null;
    }
}

static void Print(string name, Run run) =>
    Console.WriteLine($"{name,-40} {run.Rps,8:0} {run.P(50),8:0.0} {run.P(99),8:0.0} {run.Errors,7}");

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

int Argument(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
}

sealed record Target(string Name, Uri Url, List<string>? Keys);

sealed record Run(double[] Latencies, int Errors, double Seconds)
{
    public double Rps => Latencies.Length / Seconds;
    public double P(int percentile) => Latencies.Length == 0 ? double.NaN : Latencies[Math.Min(Latencies.Length - 1, (int)(Latencies.Length * percentile / 100.0))];
}
