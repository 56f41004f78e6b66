using Microsoft.Extensions.Options;

namespace Gateway.Chat.Upstream;

// Everything Chat needs to know about its model provider and its prices ("Chat" section).
public sealed record ChatServiceOptions
{
    public const string Section = "Chat";

    // The default provider (named "default" in a model's Upstreams) and every call's timeouts.
    public UpstreamOptions Upstream { get; init; } = new();

    // Further providers by name, for models whose Upstreams name them (e.g. "anthropic").
    public Dictionary<string, ProviderOptions> Providers { get; init; } = [];

    // The model used when a request names none (a key of Models).
    public string DefaultModel { get; init; } = "";

    // Public model id → where it runs and what it costs.
    public Dictionary<string, ModelOptions> Models { get; init; } = [];

    // Generation kind ("icon", a page format such as "react_tailwind") → its model and flat price.
    public Dictionary<string, GenerationOptions> Generations { get; init; } = [];

    // The most often a running generation's progress goes to its owner's live sockets.
    public TimeSpan GenerationProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    public ReservationOptions Reservations { get; init; } = new();

    // How many earlier messages of a session go to the model as context.
    public int HistoryMessages { get; init; } = 40;

    public int MaxMessageLength { get; init; } = 32_000;
}

public record ProviderOptions
{
    public const string OpenAI = "OpenAI";
    public const string Anthropic = "Anthropic";

    // OpenAI: any OpenAI-compatible chat completions API; Anthropic: Anthropic's Messages API (the official Anthropic package).
    public string Kind { get; init; } = OpenAI;

    // e.g. https://api.openai.com/v1, MockLlm's http://127.0.0.1:PORT/v1, or https://api.anthropic.com.
    public string BaseUrl { get; init; } = "";

    public string? ApiKey { get; init; }

    // Bring your own key: the name of a secret in the caller's vault (POST /api/vault) that holds their own API key for
    // this provider. Requests routed here are sent with the caller's key, read for each request (ProviderKeys), and
    // ApiKey is not used; a caller without that secret is routed past this provider, or refused if none is left.
    public string? VaultSecret { get; init; }

    // Shown in logs and traces, e.g. "local model" when the AppHost starts MockLlm; the provider's name when empty.
    public string? Label { get; init; }

    // It holds a secret: printed (ToString, a log line) without it.
    public sealed override string ToString() =>
        $"{GetType().Name} {{ Kind = {Kind}, BaseUrl = {BaseUrl}, Label = {Label}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "none" : "set")}, VaultSecret = {VaultSecret} }}";
}

public sealed record UpstreamOptions : ProviderOptions
{
    // The longest a single call may take, first token to last; a hang ends here.
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    // An upstream that has not begun answering in this time is given up for the model's next one; a model's last
    // upstream has only Timeout.
    public TimeSpan FirstTokenTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

// One place a model runs: a provider ("default" is Chat:Upstream) and that provider's name for the model.
public sealed record ModelUpstream
{
    public string Provider { get; init; } = "default";

    // The provider's name for the model; the public id when empty.
    public string? Model { get; init; }
}

public sealed record ModelOptions
{
    // Chat (completions, responses) or Embedding (/v1/embeddings: InputPrice per input token, ContextTokens the most
    // one input may have; OutputPrice and MaxOutputTokens are not used; one upstream, on an OpenAI-compatible provider).
    public ModelKind Kind { get; init; } = ModelKind.Chat;

    // The default provider's name for the model (when Upstreams is empty); the public id when empty.
    public string? UpstreamModel { get; init; }

    // Where the model runs, in order: when one fails or times out before its first token, the next is tried; once the
    // answer has begun, never. Empty: the default provider, as UpstreamModel. The model's prices are the same whichever serves.
    public List<ModelUpstream> Upstreams { get; init; } = [];

    public decimal InputPrice { get; init; } = 1;   // credits per input token
    public decimal OutputPrice { get; init; } = 1;  // credits per output token
    public int MaxOutputTokens { get; init; } = 1024;
    public int ContextTokens { get; init; } = 128_000;
}

public enum ModelKind { Chat, Embedding }

public sealed record GenerationOptions
{
    // A key of Models; the default model when empty.
    public string? Model { get; init; }

    public long Price { get; init; } = 1;  // credits per generation, whatever its tokens
    public int MaxOutputTokens { get; init; } = 2048;
    public string? Instructions { get; init; }
}

public sealed record ReservationOptions
{
    // How long Chat waits for Billing's answer before refusing the request (fail closed).
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    // How long Billing keeps a hold; must outlast the longest upstream call.
    public TimeSpan HoldFor { get; init; } = TimeSpan.FromMinutes(10);

    // How often this Chat tells Billing its holds are still in use (HoldRenewals); well under Billing's HolderLease
    // (30 s), after which a silent Chat's holds are released.
    public TimeSpan RenewEvery { get; init; } = TimeSpan.FromSeconds(10);

    public StandbyOptions Standby { get; init; } = new();
}

// Holds made ahead for busy callers (Metering/StandbyHolds.cs).
public sealed record StandbyOptions
{
    // The most standby holds one caller has at once; 0 turns them off.
    public int MaxPerCaller { get; init; } = 8;

    // A caller is busy, and gets standby holds, when a request comes within this of their previous one.
    public TimeSpan BusyWithin { get; init; } = TimeSpan.FromSeconds(1);

    // A standby hold nobody took in this time goes back to the caller.
    public TimeSpan IdleRelease { get; init; } = TimeSpan.FromSeconds(2);

    // A standby hold is kept only if at least this many times its amount is still available after it.
    public int RichFactor { get; init; } = 4;
}

// Fails the start with the setting's name, never later with a null.
public sealed class ChatServiceOptionsValidator : IValidateOptions<ChatServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatServiceOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Upstream.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            failures.Add("Chat:Upstream:BaseUrl must be the absolute http(s) URL of the default provider (e.g. MockLlm's http://127.0.0.1:5300/v1).");
        }
        if (options.Upstream.Kind is not (ProviderOptions.OpenAI or ProviderOptions.Anthropic))
        {
            failures.Add("Chat:Upstream:Kind must be OpenAI or Anthropic.");
        }
        foreach (var (providerName, provider) in options.Providers)
        {
            if (provider.Kind is not (ProviderOptions.OpenAI or ProviderOptions.Anthropic))
            {
                failures.Add($"Chat:Providers:{providerName}:Kind must be OpenAI or Anthropic.");
            }
            if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                failures.Add($"Chat:Providers:{providerName}:BaseUrl must be an absolute http(s) URL.");
            }
        }
        if (options.Upstream.VaultSecret is { Length: > 0 })
        {
            failures.Add("Chat:Upstream (the default provider) runs with the operator's key; name a provider in Chat:Providers for callers' own keys (VaultSecret).");
        }
        if (options.Upstream.Timeout <= TimeSpan.Zero || options.Upstream.FirstTokenTimeout <= TimeSpan.Zero)
        {
            failures.Add("Chat:Upstream:Timeout and Chat:Upstream:FirstTokenTimeout must be more than zero.");
        }
        if (options.Upstream.FirstTokenTimeout >= options.Upstream.Timeout && options.Models.Values.Any(m => m.Upstreams.Count > 1))
        {
            failures.Add("Chat:Upstream:FirstTokenTimeout must be shorter than Chat:Upstream:Timeout, or no upstream would ever be given up for the next.");
        }
        if (options.Models.Count == 0)
        {
            failures.Add("Chat:Models must name at least one model (Chat:Models:<id>:InputPrice, …).");
        }
        foreach (var (id, model) in options.Models)
        {
            if (model.InputPrice < 0 || model.OutputPrice < 0) failures.Add($"Chat:Models:{id}: InputPrice and OutputPrice must not be negative.");
            foreach (var upstream in model.Upstreams.Where(u => u.Provider != "default" && !options.Providers.ContainsKey(u.Provider)))
            {
                failures.Add($"Chat:Models:{id}:Upstreams names the provider '{upstream.Provider}', which is not in Chat:Providers.");
            }
            if (model.Kind == ModelKind.Embedding)
            {
                if (model.ContextTokens < 1) failures.Add($"Chat:Models:{id}:ContextTokens (the most tokens one input may have) must be at least 1.");
                var provider = model.Upstreams.FirstOrDefault()?.Provider ?? "default";
                var providerKind = provider == "default" ? options.Upstream.Kind : options.Providers.GetValueOrDefault(provider)?.Kind;
                if (model.Upstreams.Count > 1) failures.Add($"Chat:Models:{id}: an embedding model runs on one upstream.");
                if (providerKind is not (null or ProviderOptions.OpenAI)) failures.Add($"Chat:Models:{id}: an embedding model needs an OpenAI-compatible provider, and '{provider}' is {providerKind}.");
                if (provider != "default" && options.Providers.GetValueOrDefault(provider)?.VaultSecret is { Length: > 0 }) failures.Add($"Chat:Models:{id}: an embedding model runs with the operator's key, and '{provider}' takes the caller's (VaultSecret).");
                continue;
            }
            if (model.MaxOutputTokens < 1) failures.Add($"Chat:Models:{id}:MaxOutputTokens must be at least 1.");
            if (model.ContextTokens <= model.MaxOutputTokens) failures.Add($"Chat:Models:{id}:ContextTokens must be more than MaxOutputTokens.");
        }
        var chatModels = options.Models.Where(m => m.Value.Kind == ModelKind.Chat).Select(m => m.Key).ToHashSet();
        if (!chatModels.Contains(options.DefaultModel))
        {
            failures.Add($"Chat:DefaultModel ('{options.DefaultModel}') must be one of Chat:Models' chat models ({string.Join(", ", chatModels)}).");
        }
        foreach (var (kind, generation) in options.Generations)
        {
            if (generation.Model is { Length: > 0 } model && !chatModels.Contains(model)) failures.Add($"Chat:Generations:{kind}:Model ('{model}') must be one of Chat:Models' chat models.");
            if (generation.Price < 0) failures.Add($"Chat:Generations:{kind}:Price must not be negative.");
            if (generation.MaxOutputTokens < 1) failures.Add($"Chat:Generations:{kind}:MaxOutputTokens must be at least 1.");
        }
        if (options.GenerationProgressInterval <= TimeSpan.Zero) failures.Add("Chat:GenerationProgressInterval must be more than zero.");
        if (options.Reservations.Timeout <= TimeSpan.Zero)
        {
            failures.Add("Chat:Reservations:Timeout must be more than zero.");
        }
        if (options.Reservations.HoldFor <= options.Upstream.Timeout + options.Reservations.Timeout)
        {
            failures.Add("Chat:Reservations:HoldFor must be longer than Chat:Upstream:Timeout plus Chat:Reservations:Timeout, or holds could expire before they are charged.");
        }
        if (options.Reservations.RenewEvery <= TimeSpan.Zero)
        {
            failures.Add("Chat:Reservations:RenewEvery must be more than zero.");
        }
        if (options.Reservations.Standby.MaxPerCaller < 0) failures.Add("Chat:Reservations:Standby:MaxPerCaller must not be negative (0 turns standby holds off).");
        if (options.Reservations.Standby.IdleRelease <= TimeSpan.Zero) failures.Add("Chat:Reservations:Standby:IdleRelease must be more than zero.");
        if (options.Reservations.Standby.RichFactor < 1) failures.Add("Chat:Reservations:Standby:RichFactor must be at least 1.");
        if (options.HistoryMessages < 0) failures.Add("Chat:HistoryMessages must not be negative.");
        if (options.MaxMessageLength < 1) failures.Add("Chat:MaxMessageLength must be at least 1.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
