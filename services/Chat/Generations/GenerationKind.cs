using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Generations;

// What a kind of generation is: its entry in Chat:Generations, what the model is told to write when the entry says
// nothing, how the output is checked (and cleaned), and the usage row's kind.
public sealed record GenerationKind(string Name, string UsageKind, string Endpoint, string DefaultInstructions, Func<string, (string? Output, string? Problem)> Check)
{
    public static readonly GenerationKind Icon = new("icon", "icon", "icons",
        "You draw icons. Answer with exactly one standalone SVG document (xmlns=\"http://www.w3.org/2000/svg\", viewBox \"0 0 24 24\"), " +
        "no prose, no code fences, no scripts, no external references.",
        text => SvgDocument.Clean(text) is { } svg ? (svg, null) : (null, "The model did not answer with an SVG image."));

    // A page, one kind per format, each its own entry (and price) in Chat:Generations.
    public static readonly IReadOnlyDictionary<string, GenerationKind> Pages = PageDocument.Formats.ToDictionary(
        format => format,
        format => new GenerationKind(format, "page", "generations",
            $"Page format: {format}. You write web pages. Answer with {PageDocument.Describe(format)}. " +
            "Only the code, complete and ready to use: no explanation before or after it.",
            text => PageDocument.Check(format, text)));
}

// The metered turn of one generation: the kind's instructions and the caller's prompt, at the kind's flat price.
public static class GenerationTurn
{
    public static MeteredTurn For(PricedGeneration priced, GenerationKind kind, string prompt, TokenCounter tokens, bool stream, string requestHash)
    {
        var messages = new List<AI.ChatMessage>
        {
            new(AI.ChatRole.System, priced.Instructions is { Length: > 0 } instructions ? instructions : kind.DefaultInstructions),
            new(AI.ChatRole.User, prompt),
        };
        return new MeteredTurn(priced.Model, messages, tokens.CountPrompt(messages), priced.MaxOutputTokens)
        {
            FlatPrice = priced.Price,
            Stream = stream,
            RequestHash = requestHash,
        };
    }
}

// What a generation endpoint needs, as one [AsParameters] record.
public sealed record GenerationServices(
    Infrastructure.ChatDbContext Db, MeteredTurns Turns, TokenCounter Tokens, ModelCatalog Catalog, TimeProvider Clock,
    Microsoft.Extensions.Options.IOptions<ChatServiceOptions> Options, MassTransit.IBus Bus)
{
    public GenerationRun Run(GenerationKind kind, string prompt, Guid userId, PricedGeneration priced) =>
        new(kind, prompt, userId, priced.Model.Id, Db, Bus, Clock, Options.Value.GenerationProgressInterval);

    // The longest a generation can run: past it, one still marked running was lost with its process.
    public TimeSpan LongestRun => Options.Value.Reservations.HoldFor;
}
