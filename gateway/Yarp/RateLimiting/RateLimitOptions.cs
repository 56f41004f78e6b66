namespace Gateway.Edge.RateLimiting;

public sealed record RateLimit
{
    public int PermitLimit { get; init; } = 600;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

// Edge:RateLimits:Groups:<group>. A route names its group in its metadata ("RateLimitGroup"), else its
// cluster's name is the group; a group without settings uses "default".
public sealed record RateLimitOptions
{
    public const string Section = "Edge:RateLimits";

    // How often each replica adds its admissions to the shared count in Redis.
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public Dictionary<string, RateLimit> Groups { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    public RateLimit For(string group) =>
        Groups.GetValueOrDefault(group) ?? Groups.GetValueOrDefault("default") ?? new RateLimit();
}
