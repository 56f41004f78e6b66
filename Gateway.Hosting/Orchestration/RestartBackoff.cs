namespace Gateway.Hosting.Orchestration;

/// <summary>1 s, 2 s, 4 s … at most 30 s between restarts; back to 1 s once a run has stayed up for a minute.</summary>
internal sealed class RestartBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(60);

    private TimeSpan next = First;

    public void RanFor(TimeSpan uptime)
    {
        if (uptime >= StableAfter)
        {
            next = First;
        }
    }

    public TimeSpan Next()
    {
        var delay = next;
        next = TimeSpan.FromTicks(Math.Min(next.Ticks * 2, Cap.Ticks));
        return delay;
    }
}
