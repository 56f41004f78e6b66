using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Gateway.Chat.Upstream;

// A model this gateway serves: the client that reaches it and what its tokens cost.
public sealed record PricedModel(string Id, string UpstreamModel, decimal InputPrice, decimal OutputPrice, int MaxOutputTokens, int ContextTokens, IChatClient Client)
{
    // Whole credits, rounded up: a fraction of a credit is still spent upstream.
    public long Cost(long inputTokens, long outputTokens) =>
        (long)Math.Ceiling(inputTokens * InputPrice + outputTokens * OutputPrice);
}

// A generation kind (an icon) at a flat price, on one of the models.
public sealed record Generation(string Kind, PricedModel Model, long Price, int MaxOutputTokens, string Instructions);

// The models of Chat:Models, each behind an IChatClient (an embedding model: an IEmbeddingGenerator) on the one
// OpenAI-compatible provider.
public sealed class ModelCatalog : IDisposable
{
    private readonly Dictionary<string, PricedModel> _models;
    private readonly Dictionary<string, Generation> _generations;
    private readonly Dictionary<string, EmbeddingModel> _embeddings;

    public ModelCatalog(IOptions<ChatServiceOptions> options)
    {
        var settings = options.Value;
        var provider = new OpenAIClient(
            new ApiKeyCredential(settings.Upstream.ApiKey is { Length: > 0 } key ? key : "none"),
            new OpenAIClientOptions
            {
                Endpoint = new Uri(settings.Upstream.BaseUrl.TrimEnd('/')),
                // No retries: a retried completion is billed twice upstream, and the caller decides.
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = settings.Upstream.Timeout + TimeSpan.FromSeconds(5),
            });

        _models = settings.Models.Where(m => m.Value.Kind == ModelKind.Chat).ToDictionary(
            m => m.Key,
            m =>
            {
                var upstream = m.Value.UpstreamModel is { Length: > 0 } name ? name : m.Key;
                return new PricedModel(m.Key, upstream, m.Value.InputPrice, m.Value.OutputPrice, m.Value.MaxOutputTokens, m.Value.ContextTokens,
                    provider.GetChatClient(upstream).AsIChatClient());
            },
            StringComparer.Ordinal);
        _embeddings = settings.Models.Where(m => m.Value.Kind == ModelKind.Embedding).ToDictionary(
            m => m.Key,
            m => EmbeddingModel.Create(m.Key, m.Value, provider),
            StringComparer.Ordinal);
        Default = _models[settings.DefaultModel];
        Label = settings.Upstream.Label;
        _generations = settings.Generations.ToDictionary(
            g => g.Key,
            g => new Generation(g.Key, g.Value.Model is { Length: > 0 } id ? _models[id] : Default, g.Value.Price, g.Value.MaxOutputTokens,
                g.Value.Instructions ?? ""),
            StringComparer.OrdinalIgnoreCase);
    }

    public PricedModel Default { get; }

    public string Label { get; }

    public IReadOnlyCollection<PricedModel> All => _models.Values;

    public PricedModel? Find(string? id) => id is null ? Default : _models.GetValueOrDefault(id);

    public Generation? FindGeneration(string kind) => _generations.GetValueOrDefault(kind);

    public IReadOnlyCollection<EmbeddingModel> Embeddings => _embeddings.Values;

    public EmbeddingModel? FindEmbedding(string id) => _embeddings.GetValueOrDefault(id);

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            model.Client.Dispose();
        }
        foreach (var model in _embeddings.Values)
        {
            model.Generator.Dispose();
        }
    }
}
