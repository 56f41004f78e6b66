using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Bench.Edge;

// CpuUsPerRequest: CPU time the proxy process spent per request served (user + system), which the other
// load on this 2-core machine disturbs far less than throughput does; null for the direct scenario.
public sealed record LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms, double? CpuUsPerRequest);

// wrk (Debian) as the load generator: a separate process, so the server's figures are not its own.
public static partial class Wrk
{
    public static async Task<LoadResult> RunAsync(string url, int seconds, string? header = null, int? proxyProcessId = null)
    {
        var cpuBefore = CpuTime(proxyProcessId);
        List<string> arguments = ["-t2", "-c32", $"-d{seconds}s", "--latency"];
        if (header is not null) arguments.AddRange(["-H", header]);
        arguments.Add(url);
        var process = Process.Start(new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException("wrk did not start (apt-get install -y wrk).");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var cpuAfter = CpuTime(proxyProcessId);
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") is not null)
        {
            Console.WriteLine(output);
        }
        if (NonSuccess().Match(output) is { Success: true } failed)
        {
            throw new InvalidOperationException($"{url}: {failed.Value.Trim()}\n{output}");
        }
        return new LoadResult(
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Milliseconds(Percentile("50%").Match(output)),
            Milliseconds(Percentile("99%").Match(output)),
            cpuAfter - cpuBefore is { } cpu ? cpu.TotalMicroseconds / long.Parse(Requests().Match(output).Groups[1].Value, CultureInfo.InvariantCulture) : null);
    }

    private static TimeSpan? CpuTime(int? processId)
    {
        if (processId is not { } id) return null;
        using var process = Process.GetProcessById(id);
        return process.TotalProcessorTime;
    }

    private static Regex Percentile(string p) => new($@"^\s*{Regex.Escape(p)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);

    private static double Milliseconds(Match match)
    {
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in ")]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses: \d+")]
    private static partial Regex NonSuccess();
}
