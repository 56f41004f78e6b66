using System.Diagnostics;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Orchestration;

/// <summary>A project is ready when GET of its health URL (/health/readiness by default) answers 200.</summary>
internal static class HealthProbe
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>Polls until 200; throws <see cref="ProjectExitedException"/> when the process ends first.</summary>
    public static async Task WaitReadyAsync(string name, string healthUrl, ChildProcess process, ResourceOutput output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var nextNotice = TimeSpan.FromSeconds(30);
        var last = "no answer";
        while (true)
        {
            if (process.HasExited)
            {
                throw new ProjectExitedException($"exited with code {process.Exited.Result} before it was ready");
            }
            var (ready, answer) = await AskAsync(healthUrl, ct);
            if (ready)
            {
                return;
            }
            last = answer;
            if (clock.Elapsed > nextNotice)
            {
                output.Event(name, $"not ready after {clock.Elapsed.TotalSeconds:0} s; {healthUrl}: {Shorten(last)}");
                nextNotice += TimeSpan.FromSeconds(30);
            }
            await Task.WhenAny(process.Exited, Task.Delay(clock.Elapsed < TimeSpan.FromSeconds(5) ? 100 : 500, ct));
        }
    }

    /// <summary>One GET of the health URL: whether it answered 200, and what it said otherwise.</summary>
    public static async Task<(bool Ready, string Answer)> AskAsync(string healthUrl, CancellationToken ct)
    {
        try
        {
            using var response = await Http.GetAsync(healthUrl, ct);
            return (int)response.StatusCode == 200 ? (true, "200") : (false, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return (false, e.Message);
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

internal sealed class ProjectExitedException(string message) : Exception(message);
