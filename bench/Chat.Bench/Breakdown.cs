using System.Collections.Concurrent;
using System.Diagnostics;

// Where one request's time goes, from the spans every service already emits. Everything runs in this
// process, so one ActivityListener sees the edge, Chat, Billing, MassTransit, Npgsql and MockLlm. Requests
// are sent one at a time under a root span of our own; each step is keyed by its path in the span tree and
// reported as the median over requests (robust to the other work on the machine), with its median start
// offset from the request's start, so the table reads as a timeline.
internal sealed class Breakdown : IDisposable
{
    public static readonly ActivitySource Source = new("Chat.Bench");

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public Breakdown()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Clear() => _stopped.Clear();

    public void Print(IReadOnlyList<ActivityTraceId> requests)
    {
        var all = _stopped.ToArray();
        var byTrace = all.GroupBy(a => a.TraceId).ToDictionary(g => g.Key, g => g.ToList());
        var steps = new Dictionary<string, List<(double Start, double Duration)>>();
        var order = new Dictionary<string, double>();
        var roundTrips = new Dictionary<string, List<int>>();
        var added = new List<double>();
        var captureDelays = new List<double>();
        var captures = all.Where(a => a.DisplayName.Contains("usage-recorded", StringComparison.OrdinalIgnoreCase) && a.Kind == ActivityKind.Consumer)
            .OrderBy(a => a.StartTimeUtc).ToList();
        var complete = 0;
        foreach (var traceId in requests)
        {
            if (!byTrace.TryGetValue(traceId, out var spans) || spans.FirstOrDefault(s => s.Source == Source) is not { } root)
            {
                continue;
            }
            complete++;
            var byId = spans.ToDictionary(s => s.SpanId);
            var seen = new HashSet<string>();
            foreach (var span in spans)
            {
                var key = Path(span, byId);
                var start = (span.StartTimeUtc - root.StartTimeUtc).TotalMilliseconds;
                (steps.TryGetValue(key, out var list) ? list : steps[key] = []).Add((start, span.Duration.TotalMilliseconds));
                if (seen.Add(key))
                {
                    order[key] = order.GetValueOrDefault(key) + start;
                }
            }
            foreach (var database in spans.Where(IsDatabase).GroupBy(s => Tag(s, "db.name", "db.namespace") ?? "?"))
            {
                (roundTrips.TryGetValue(database.Key, out var counts) ? counts : roundTrips[database.Key] = []).Add(database.Count());
            }
            // Added latency: the whole request less the time MockLlm itself spent answering.
            // MockLlm's is the innermost of the three HTTP servers (edge, Chat, MockLlm). Without an OTLP endpoint
            // the services register no OpenTelemetry enrichment, so ASP.NET Core's spans carry no tags to match on.
            if (spans.Where(s => s.OperationName == "Microsoft.AspNetCore.Hosting.HttpRequestIn")
                    .MinBy(s => s.Duration) is { } model)
            {
                added.Add(root.Duration.TotalMilliseconds - model.Duration.TotalMilliseconds);
            }
            // Outbox → broker → Billing: from the commit of the usage to the capture's consumer starting.
            var commit = spans.Where(s => IsDatabase(s) && (Tag(s, "db.statement", "db.query.text")?.Contains("outbox_messages") ?? false)).MaxBy(s => s.StartTimeUtc);
            if (commit is not null && captures.FirstOrDefault(c => c.StartTimeUtc >= commit.StartTimeUtc + commit.Duration) is { } capture)
            {
                captureDelays.Add((capture.StartTimeUtc - (commit.StartTimeUtc + commit.Duration)).TotalMilliseconds);
            }
        }

        Console.WriteLine($"Per-request breakdown: {complete} sequential requests; median start offset and duration of each span, ms; n = spans per request.");
        Console.WriteLine($"{"start",7} {"ms",7} {"n",4}  span");
        foreach (var (key, samples) in steps.OrderBy(s => order[s.Key] / steps[s.Key].Count).ThenBy(s => s.Key))
        {
            var perRequest = (double)samples.Count / complete;
            Console.WriteLine($"{Median(samples.Select(s => s.Start)),7:0.00} {Median(samples.Select(s => s.Duration)),7:0.00} {perRequest,4:0.#}  {key}");
        }
        Console.WriteLine();
        Console.WriteLine($"added latency (request − MockLlm's own server span): median {Median(added):0.00} ms, p90 {Percentile(added, 90):0.00} ms");
        foreach (var (database, counts) in roundTrips)
        {
            // Npgsql traces statements and batches, not BEGIN/COMMIT; Billing's ledger uses an untraced data source.
            Console.WriteLine($"traced database commands per request, {database}: median {Median(counts.Select(c => (double)c))}, max {counts.Max()} (COMMITs not traced)");
        }
        if (captureDelays.Count > 0)
        {
            Console.WriteLine($"usage committed → Billing's UsageRecorded consumer starts (off the request path): median {Median(captureDelays):0.00} ms, p90 {Percentile(captureDelays, 90):0.00} ms");
        }
        var background = all.Where(a => !requests.Contains(a.TraceId) && a.DisplayName.Contains("usage-recorded", StringComparison.OrdinalIgnoreCase))
            .GroupBy(a => $"{a.Source.Name}: {a.DisplayName} ({a.Kind})");
        foreach (var group in background)
        {
            Console.WriteLine($"  background {group.Key}: median {Median(group.Select(a => a.Duration.TotalMilliseconds)):0.00} ms ×{group.Count()}");
        }
    }

    private static bool IsDatabase(Activity span) => span.Source.Name.StartsWith("Npgsql", StringComparison.Ordinal);

    private static string Path(Activity span, Dictionary<ActivitySpanId, Activity> byId)
    {
        var depth = 0;
        for (var parent = span.ParentSpanId; byId.TryGetValue(parent, out var p); parent = p.ParentSpanId)
        {
            depth++;
        }
        return $"{new string(' ', depth * 2)}{Name(span)}";
    }

    private static string Name(Activity span)
    {
        var source = span.Source.Name switch
        {
            "Microsoft.AspNetCore" => $"server :{Tag(span, "server.port")}",
            "System.Net.Http" => $"http client → :{Tag(span, "server.port")}",
            "MassTransit" => "masstransit",
            var name when name.StartsWith("Npgsql") => $"npgsql {Tag(span, "db.name", "db.namespace")}",
            var name => name,
        };
        var text = IsDatabase(span) ? Tag(span, "db.statement", "db.query.text") ?? span.DisplayName : span.DisplayName;
        text = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return $"[{source}] {(text.Length > 70 ? text[..70] + "…" : text)}";
    }

    private static string? Tag(Activity span, params string[] names) =>
        names.Select(n => span.GetTagItem(n)?.ToString()).FirstOrDefault(v => v is not null);

    private static double Median(IEnumerable<double> values) => Percentile(values, 50);

    private static double Percentile(IEnumerable<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * percentile / 100.0))];
    }

    public void Dispose() => _listener.Dispose();
}
