using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Gateway.Bench.Chat;

// The load the benchmark's runs put on a target: open loops at a rate, closed loops of callers, one request at a time.
public static class Load
{
    public static async Task<Run> OpenLoopAsync(HttpClient http, Target target, int rate, int seconds) => (await AlternatingAsync(http, [target], rate, seconds))[0];

    // An open loop at rate requests a second whose request i goes to targets[i % count]: one run per target, over the same seconds.
    public static async Task<Run[]> AlternatingAsync(HttpClient http, Target[] targets, int rate, int seconds)
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
            tasks.Add(OneAsync(http, targets[i % targets.Length], i / targets.Length));
        }
        var results = await Task.WhenAll(tasks);
        var elapsed = clock.Elapsed.TotalSeconds;
        return targets.Select((_, t) =>
        {
            var mine = results.Where((_, i) => i % targets.Length == t).ToList();
            return new Run(mine.OfType<double>().Order().ToArray(), mine.Count(r => r is null), elapsed);
        }).ToArray();
    }

    public static async Task<Run> ClosedLoopAsync(HttpClient http, Target target, int callers, int seconds)
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

    public static async Task<double?> OneAsync(HttpClient http, Target target, int i)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new StringContent(target.Body, Encoding.UTF8, "application/json") };
            if (target.Keys is { } keys)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[i % keys.Count]);
            }
            foreach (var (name, value) in target.Headers ?? [])
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }
            var text = await response.Content.ReadAsStringAsync();
            return text.Contains(target.End) ? Stopwatch.GetElapsedTime(started).TotalMilliseconds : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            return null;
        }
    }

    public static void Print(string name, Run run) =>
        Console.WriteLine($"{name,-40} {run.Rps,8:0} {run.P(50),8:0.0} {run.P(99),8:0.0} {run.Errors,7}");

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}

// What each request sends, and what in the answer shows it ended well.
public sealed record Target(string Name, Uri Url, List<string>? Keys, Dictionary<string, string>? Headers = null)
{
    public string Body { get; init; } = """{"model":"local-model","stream":true,"stream_options":{"include_usage":true},"max_tokens":32,"messages":[{"role":"user","content":"Say something short [mock:tokens=8]"}]}""";
    public string End { get; init; } = "[DONE]";
}

public sealed record Run(double[] Latencies, int Errors, double Seconds)
{
    public double Rps => Latencies.Length / Seconds;
    public double P(int percentile) => Latencies.Length == 0 ? double.NaN : Latencies[Math.Min(Latencies.Length - 1, (int)(Latencies.Length * percentile / 100.0))];
}
