using System.Text.RegularExpressions;
using Gateway.Hosting.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Hosting.Dashboard;

/// <summary>The resource page's data and commands: state, vitals, console output, restart/stop/start, queue depths.</summary>
internal static partial class ResourcesApi
{
    public static void MapResourcesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/resources", (Orchestrator orchestrator, ResourceMonitor monitor) =>
            orchestrator.Snapshot().Select(row => Row(row, monitor.VitalsOf(row.Name))));

        api.MapPost("/resources/{name}/{command}", async (string name, string command, Orchestrator orchestrator) =>
        {
            if (!Enum.TryParse<ResourceCommand>(command, ignoreCase: true, out var parsed) || int.TryParse(command, out _))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown command",
                    detail: $"'{command}' is not a command: use stop, start or restart.");
            }
            return await orchestrator.CommandAsync(name, parsed) switch
            {
                null => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown resource", detail: $"There is no resource named '{name}'."),
                false => Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not now",
                    detail: parsed == ResourceCommand.Start ? $"{name} is not stopped." : $"{name} is not running."),
                true => Results.Accepted(),
            };
        });

        api.MapGet("/resources/{name}/logs", (string name, long? after, Orchestrator orchestrator) =>
            orchestrator.Snapshot().Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
                ? Results.Ok(orchestrator.Logs(name, after ?? 0).Select(l => new { l.Sequence, l.Time, Kind = l.Kind.ToString().ToLowerInvariant(), l.Text }))
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown resource", detail: $"There is no resource named '{name}'."));

        api.MapGet("/queues", (QueueMonitor queues) => new
        {
            current = queues.Current,
            history = queues.History.Select(s => new { time = s.Time.ToUnixTimeMilliseconds(), depths = s.Depths }),
        });
    }

    private static object Row(ResourceSnapshot row, ResourceVitals vitals) => new
    {
        row.Name,
        row.Kind,
        State = row.State.ToString(),
        vitals.Health,
        row.Pid,
        row.Endpoint,
        Links = Links(row),
        row.Restarts,
        UptimeSeconds = row.ReadySince is { } since ? Math.Round((DateTimeOffset.Now - since).TotalSeconds) : (double?)null,
        vitals.CpuPercent,
        vitals.MemoryBytes,
    };

    /// <summary>Every http(s) address in the endpoint text, plus the API reference for the public entry point.</summary>
    private static IEnumerable<string> Links(ResourceSnapshot row) =>
        HttpUrl().Matches(row.Endpoint).Select(m => m.Value.TrimEnd(',', '/'))
            .SelectMany(url => row.Name == "edge" ? [url, url + "/docs"] : new[] { url });

    [GeneratedRegex(@"https?://[^\s,]+")]
    private static partial Regex HttpUrl();
}
