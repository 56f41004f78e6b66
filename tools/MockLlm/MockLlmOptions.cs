namespace Gateway.MockLlm;

// Defaults for every request ("MockLlm" section, e.g. MockLlm__TokenDelay=00:00:00.010); a request can
// override them with directives (see Directives).
public sealed record MockLlmOptions
{
    public const string Section = "MockLlm";

    public string[] Models { get; init; } = ["local-model"];

    // Served by /v1/embeddings only.
    public string[] EmbeddingModels { get; init; } = ["local-embedding"];

    // An embedding's length when the request names no dimensions (text-embedding-3-small's).
    public int EmbeddingDimensions { get; init; } = 1536;

    // Before the first token (time to first token).
    public TimeSpan FirstTokenLatency { get; init; } = TimeSpan.Zero;

    // Between two tokens.
    public TimeSpan TokenDelay { get; init; } = TimeSpan.Zero;

    // Answer length when the prompt does not ask for one; always capped by the request's max tokens.
    public int OutputTokens { get; init; } = 24;

    // "normal", "error" (answers ErrorStatus) or "hang" (never answers): the whole server's behaviour.
    public string Mode { get; init; } = "normal";

    public int ErrorStatus { get; init; } = 500;

    // When set, requests must carry "Authorization: Bearer <ApiKey>", as a real provider would demand.
    public string? ApiKey { get; init; }
}
