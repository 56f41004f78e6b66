namespace Gateway.Edge.ApiReference;

// Edge:ApiReference: the address clients use, and how long a merged document is reused.
public sealed record ApiReferenceOptions
{
    public const string Section = "Edge:ApiReference";

    public string? PublicUrl { get; init; }

    // How long a merged document is served before the services are asked again.
    public TimeSpan CacheFor { get; init; } = TimeSpan.FromSeconds(30);

    // Shorter while a service is missing, so it reappears soon after it is back.
    public TimeSpan CachePartialFor { get; init; } = TimeSpan.FromSeconds(5);
}
