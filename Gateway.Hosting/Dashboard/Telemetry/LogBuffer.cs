namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>The newest log records, at most a fixed number; the oldest is evicted first.</summary>
internal sealed class LogBuffer(int capacity)
{
    private readonly Lock gate = new();
    private readonly Queue<LogEntry> entries = new();

    public void Add(IEnumerable<LogEntry> batch)
    {
        lock (gate)
        {
            foreach (var entry in batch)
            {
                if (entries.Count == capacity)
                {
                    entries.Dequeue();
                }
                entries.Enqueue(entry);
            }
        }
    }

    public IReadOnlyList<LogView> Find(LogQuery query)
    {
        LogEntry[] snapshot;
        lock (gate)
        {
            snapshot = entries.ToArray();
        }
        return snapshot
            .Where(e => query.Service is null || e.Service == query.Service)
            .Where(e => query.MinLevel is null || e.Level >= query.MinLevel)
            .Where(e => query.TraceId is null || string.Equals(e.TraceId, query.TraceId, StringComparison.OrdinalIgnoreCase))
            .Where(e => string.IsNullOrEmpty(query.Text) || e.Message.Contains(query.Text, StringComparison.OrdinalIgnoreCase))
            .Reverse() // among records of the same time, the last received first
            .OrderByDescending(e => e.TimeNanos)
            .Take(query.Limit)
            .Select(e => e.ToView())
            .ToList();
    }
}
