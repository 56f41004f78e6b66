using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Gateway.Chat.Upstream;

// One place a model runs: a provider's client for it. A provider that takes the caller's own key (VaultSecret) has no
// client until ProviderKeys makes one with that key, for one request (WithKey).
public sealed record ModelRoute(string Provider, string Model, IChatClient? Client)
{
    public string? VaultSecret { get; init; }

    public Func<string, IChatClient>? WithKey { get; init; }
}

// A model this gateway serves: where it runs, in order of preference (UpstreamCall falls back along Routes), and what
// its tokens cost, whichever route serves.
public sealed record PricedModel(string Id, IReadOnlyList<ModelRoute> Routes, decimal InputPrice, decimal OutputPrice, int MaxOutputTokens, int ContextTokens)
{
    // Whole credits, rounded up: a fraction of a credit is still spent upstream.
    public long Cost(long inputTokens, long outputTokens) =>
        (long)Math.Ceiling(inputTokens * InputPrice + outputTokens * OutputPrice);
}

// A generation kind (an icon) at a flat price, on one of the models.
public sealed record PricedGeneration(string Kind, PricedModel Model, long Price, int MaxOutputTokens, string Instructions);

// The models of Chat:Models, each behind one IChatClient per upstream: the OpenAI client for OpenAI-compatible
// providers, the official Anthropic client for Anthropic's Messages API. Neither retries: a retried completion is
// billed twice upstream, and falling back is UpstreamCall's decision. An embedding model (Kind: Embedding) is one
// IEmbeddingGenerator on an OpenAI-compatible provider.
public sealed class ModelCatalog : IDisposable
{
    private readonly Dictionary<string, PricedModel> _models;
    private readonly Dictionary<string, PricedGeneration> _generations;
    private readonly Dictionary<string, EmbeddingModel> _embeddings;

    public ModelCatalog(IOptions<ChatServiceOptions> options)
    {
        var settings = options.Value;
        var networkTimeout = settings.Upstream.Timeout + TimeSpan.FromSeconds(5);
        var providers = settings.Providers.Append(new("default", settings.Upstream))
            .ToDictionary(p => p.Key, p => Provider(p.Value with { Label = p.Value.Label is { Length: > 0 } label ? label : p.Key }, networkTimeout));

        _models = settings.Models.Where(m => m.Value.Kind == ModelKind.Chat).ToDictionary(
            m => m.Key,
            m =>
            {
                var upstreams = m.Value.Upstreams is { Count: > 0 } listed
                    ? listed
                    : [new ModelUpstream { Model = m.Value.UpstreamModel }];
                var routes = upstreams.Select(u =>
                {
                    var name = u.Model is { Length: > 0 } model ? model : m.Key;
                    var (label, vaultSecret, client, _) = providers[u.Provider];
                    return vaultSecret is null
                        ? new ModelRoute(label, name, client(null, name, m.Value.MaxOutputTokens))
                        : new ModelRoute(label, name, null) { VaultSecret = vaultSecret, WithKey = key => client(key, name, m.Value.MaxOutputTokens) };
                }).ToList();
                return new PricedModel(m.Key, routes, m.Value.InputPrice, m.Value.OutputPrice, m.Value.MaxOutputTokens, m.Value.ContextTokens);
            },
            StringComparer.Ordinal);
        _embeddings = settings.Models.Where(m => m.Value.Kind == ModelKind.Embedding).ToDictionary(
            m => m.Key,
            m =>
            {
                var upstream = m.Value.Upstreams.FirstOrDefault() ?? new ModelUpstream { Model = m.Value.UpstreamModel };
                var name = upstream.Model is { Length: > 0 } model ? model : m.Key;
                return new EmbeddingModel(m.Key, name, m.Value.InputPrice, m.Value.ContextTokens, providers[upstream.Provider].Embeddings!(name));
            },
            StringComparer.Ordinal);
        Default = _models[settings.DefaultModel];
        _generations = settings.Generations.ToDictionary(
            g => g.Key,
            g => new PricedGeneration(g.Key, g.Value.Model is { Length: > 0 } id ? _models[id] : Default, g.Value.Price, g.Value.MaxOutputTokens,
                g.Value.Instructions ?? ""),
            StringComparer.OrdinalIgnoreCase);
    }

    // A provider's label, the vault secret that holds a caller's own key for it (if it takes one), and how it makes a
    // chat client for one of its models (with a caller's key, or null for the configured one) and, when it has them, an
    // embedding generator.
    private static (string Label, string? VaultSecret, Func<string?, string, int, IChatClient> Client, Func<string, IEmbeddingGenerator<string, Embedding<float>>>? Embeddings) Provider(
        ProviderOptions provider, TimeSpan networkTimeout)
    {
        var vaultSecret = provider.VaultSecret is { Length: > 0 } secret ? secret : null;
        var configuredKey = provider.ApiKey is { Length: > 0 } apiKey ? apiKey : "none";
        if (provider.Kind == ProviderOptions.Anthropic)
        {
            AnthropicClient Anthropic(string key) => new() { ApiKey = key, BaseUrl = provider.BaseUrl.TrimEnd('/'), MaxRetries = 0, Timeout = networkTimeout };
            var shared = Anthropic(configuredKey);
            return (provider.Label!, vaultSecret, (key, model, maxOutput) => (key is null ? shared : Anthropic(key)).AsIChatClient(model, maxOutput), null);
        }
        OpenAIClient OpenAi(string key) => new(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(provider.BaseUrl.TrimEnd('/')),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = networkTimeout,
        });
        var openAi = OpenAi(configuredKey);
        return (provider.Label!, vaultSecret, (key, model, _) => (key is null ? openAi : OpenAi(key)).GetChatClient(model).AsIChatClient(),
            model => openAi.GetEmbeddingClient(model).AsIEmbeddingGenerator());
    }

    public PricedModel Default { get; }

    public IReadOnlyCollection<PricedModel> All => _models.Values;

    public PricedModel? Find(string? id) => id is null ? Default : _models.GetValueOrDefault(id);

    public PricedGeneration? FindGeneration(string kind) => _generations.GetValueOrDefault(kind);

    public IReadOnlyCollection<EmbeddingModel> Embeddings => _embeddings.Values;

    public EmbeddingModel? FindEmbedding(string id) => _embeddings.GetValueOrDefault(id);

    public void Dispose()
    {
        foreach (var route in _models.Values.SelectMany(m => m.Routes))
        {
            route.Client?.Dispose();
        }
        foreach (var model in _embeddings.Values)
        {
            model.Generator.Dispose();
        }
    }
}
