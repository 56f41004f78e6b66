namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>What a series added over an interval: a counter's amount, or a histogram's count and bucket counts.</summary>
internal readonly record struct Increment(ulong FromNanos, ulong ToNanos, double[] Values);

/// <summary>
/// Turns exported points into increments. A cumulative point becomes the difference from its series' previous
/// export; a series seen for the first time, or restarted (new start time, or a value that went down), counts
/// from its start, or from its process's previous export of the metric when that is later (a route's first
/// request must not be spread over the whole uptime). A delta point is an increment already.
/// Not thread-safe: the metric store calls it under its lock.
/// </summary>
internal sealed class SeriesDeltas
{
    private readonly Dictionary<string, Point> previous = [];

    private sealed record Point(ulong StartNanos, ulong TimeNanos, double[] Values);

    /// <param name="series">The process, the metric and the point's attributes.</param>
    /// <param name="lastExportNanos">When this process last exported this metric, 0 if never seen.</param>
    public Increment? Next(string series, bool cumulative, ulong startNanos, ulong timeNanos, double[] values, ulong lastExportNanos)
    {
        if (!cumulative)
        {
            return new Increment(startNanos != 0 ? startNanos : timeNanos, timeNanos, values);
        }
        previous.TryGetValue(series, out var last);
        if (last is not null && last.StartNanos == startNanos && timeNanos <= last.TimeNanos)
        {
            // A retried or reordered export: already counted.
            return null;
        }
        if (last is null || Restarted(last, startNanos, values))
        {
            previous[series] = new Point(startNanos, timeNanos, values);
            var from = startNanos != 0 ? Math.Max(startNanos, lastExportNanos) : timeNanos;
            return new Increment(Math.Min(from, timeNanos), timeNanos, values);
        }
        previous[series] = new Point(startNanos, timeNanos, values);
        var delta = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            delta[i] = values[i] - last.Values[i];
        }
        return new Increment(last.TimeNanos, timeNanos, delta);
    }

    /// <summary>Drops the series that have not exported since <paramref name="cutoffNanos"/>.</summary>
    public void Forget(ulong cutoffNanos)
    {
        foreach (var (series, point) in previous)
        {
            if (point.TimeNanos < cutoffNanos)
            {
                previous.Remove(series);
            }
        }
    }

    private static bool Restarted(Point last, ulong startNanos, double[] values)
    {
        if (last.StartNanos != startNanos || last.Values.Length != values.Length)
        {
            return true;
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < last.Values[i])
            {
                return true;
            }
        }
        return false;
    }
}
