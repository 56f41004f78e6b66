using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>The dashboard's read side of the telemetry store, as JSON under /api/telemetry.</summary>
public static class TelemetryApi
{
    private const int MaxTraces = 1000;

    /// <summary>Maps the query endpoints; the caller adds authorization to the returned group.</summary>
    public static RouteGroupBuilder MapTelemetryApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/telemetry");

        api.MapGet("/services", GetServices);
        api.MapGet("/traces", GetTraces);
        api.MapGet("/traces/{traceId}", GetTrace);
        api.MapGet("/logs", GetLogs);
        api.MapGet("/metrics/requests", GetRequestMetrics);
        api.MapGet("/metrics/credits", GetCreditMetrics);
        api.MapGet("/metrics/names", GetMetricNames);
        return api;
    }

    public static Ok<IReadOnlyList<string>> GetServices(TelemetryStore store) => TypedResults.Ok(store.Services());

    public static Results<Ok<IReadOnlyList<TraceSummary>>, ProblemHttpResult> GetTraces(TelemetryStore store, string? service, int? limit)
    {
        var size = limit ?? 50;
        if (size is < 1 or > MaxTraces)
        {
            return Invalid("limit", $"must be between 1 and {MaxTraces}");
        }
        return TypedResults.Ok(store.Traces(Blank(service), size));
    }

    public static Results<Ok<TraceDetail>, ProblemHttpResult> GetTrace(TelemetryStore store, string traceId) =>
        store.Trace(traceId) is { } trace
            ? TypedResults.Ok(trace)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Trace not found",
                detail: "No span of this trace is held: it never arrived, or newer spans pushed it out.");

    public static Results<Ok<IReadOnlyList<LogView>>, ProblemHttpResult> GetLogs(
        TelemetryStore store, string? service, string? level, string? traceId, string? q, int? limit)
    {
        var size = limit ?? 200;
        if (size is < 1 or > 10_000)
        {
            return Invalid("limit", "must be between 1 and 10000");
        }
        LogLevelName? minLevel = null;
        if (Blank(level) is { } name)
        {
            if (!Enum.TryParse<LogLevelName>(name, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return Invalid("level", $"must be one of {string.Join(", ", Enum.GetNames<LogLevelName>())}");
            }
            minLevel = parsed;
        }
        return TypedResults.Ok(store.Logs(new LogQuery(Blank(service), minLevel, Blank(traceId), Blank(q), size)));
    }

    public static Results<Ok<RequestMetrics>, ProblemHttpResult> GetRequestMetrics(TelemetryStore store, int? minutes) =>
        Period(store, minutes ?? 15) is { } period ? TypedResults.Ok(store.Requests(period)) : InvalidMinutes(store);

    public static Results<Ok<IReadOnlyList<CreditPoint>>, ProblemHttpResult> GetCreditMetrics(TelemetryStore store, int? minutes) =>
        Period(store, minutes ?? 60) is { } period ? TypedResults.Ok(store.Credits(period)) : InvalidMinutes(store);

    public static Ok<IReadOnlyList<MetricName>> GetMetricNames(TelemetryStore store) => TypedResults.Ok(store.MetricNames());

    private static TimeSpan? Period(TelemetryStore store, int minutes) =>
        minutes >= 1 && minutes <= store.MetricsWindow.TotalMinutes ? TimeSpan.FromMinutes(minutes) : null;

    private static ProblemHttpResult InvalidMinutes(TelemetryStore store) =>
        Invalid("minutes", $"must be between 1 and {(int)store.MetricsWindow.TotalMinutes}");

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static ProblemHttpResult Invalid(string parameter, string rule) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid query", detail: $"{parameter} {rule}.");
}
