namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>The newest spans, at most a fixed number, indexed by trace; the oldest span is evicted first.</summary>
internal sealed class TraceBuffer(int capacity)
{
    private readonly Lock gate = new();
    private readonly Queue<SpanRecord> arrival = new();
    // Each trace's spans in arrival order, so the globally oldest span is always its trace's first.
    private readonly Dictionary<string, List<SpanRecord>> traces = [];

    public void Add(IEnumerable<SpanRecord> spans)
    {
        lock (gate)
        {
            foreach (var span in spans)
            {
                if (arrival.Count == capacity)
                {
                    Evict();
                }
                arrival.Enqueue(span);
                if (!traces.TryGetValue(span.TraceId, out var trace))
                {
                    traces[span.TraceId] = trace = [];
                }
                trace.Add(span);
            }
        }
    }

    public IReadOnlyList<TraceSummary> Summaries(string? service, int limit)
    {
        lock (gate)
        {
            return traces
                .Select(t => Summarize(t.Key, t.Value))
                .Where(t => service is null || t.Services.Contains(service))
                .OrderByDescending(t => t.StartTime)
                .Take(limit)
                .ToList();
        }
    }

    public TraceDetail? Find(string traceId)
    {
        SpanRecord[] spans;
        lock (gate)
        {
            if (!traces.TryGetValue(traceId, out var trace))
            {
                return null;
            }
            spans = [.. trace];
        }
        return new TraceDetail(traceId, spans.OrderBy(s => s.StartNanos).Select(s => s.ToView()).ToList());
    }

    private void Evict()
    {
        var oldest = arrival.Dequeue();
        var trace = traces[oldest.TraceId];
        trace.RemoveAt(0);
        if (trace.Count == 0)
        {
            traces.Remove(oldest.TraceId);
        }
    }

    private static TraceSummary Summarize(string traceId, List<SpanRecord> spans)
    {
        var ordered = spans.OrderBy(s => s.StartNanos).ToList();
        var head = ordered.FirstOrDefault(s => s.IsRoot) ?? ordered[0];
        var start = ordered[0].StartNanos;
        var end = ordered.Max(s => s.EndNanos);
        return new TraceSummary(
            traceId,
            head.Name,
            head.Service,
            ordered.Select(s => s.Service).Distinct().ToList(),
            OtlpValues.Milliseconds(start),
            (end - start) / 1_000_000.0,
            spans.Count,
            spans.Any(s => s.Status == "error"));
    }
}
