namespace Gateway.Keys.Infrastructure;

public static class DatabaseTime
{
    // Postgres keeps microseconds; rounding down first means a response shows exactly what was stored.
    public static DateTimeOffset ToMicroseconds(this DateTimeOffset time) =>
        new DateTimeOffset(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
}
