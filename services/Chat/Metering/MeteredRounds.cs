using System.Runtime.CompilerServices;
using System.Text.Json;
using Gateway.Chat.Upstream;
using Microsoft.Extensions.AI;

namespace Gateway.Chat.Metering;

// The model calls of one turn's tool loop (Microsoft.Extensions.AI's function invocation around the provider's client),
// each metered as a chat call is: the first under the turn's own hold; each further one under a hold of its own (its
// prompt, with the tool calls and results so far, plus the whole output limit), taken before it is made, and a wallet
// that cannot hold it ends the turn there with a 402 (ModelCallRefused). Each call is charged what it used (the
// provider's usage, else our count) on its own hold: one usage row for the turn, its further holds in MoreHolds.
public sealed class MeteredRounds(CreditMeter meter, PricedModel model, Guid userId, int maxOutput, int toolTokens, int maxCalls, string reason)
{
    private readonly List<Round> _rounds = [];

    private sealed class Round(Reservation? hold, int promptTokens)
    {
        public Reservation? Hold { get; } = hold;
        public int PromptTokens { get; } = promptTokens;
        public long? ReportedInput { get; set; }
        public long? ReportedOutput { get; set; }
        public long CountedOutput { get; set; }
        public long Input => ReportedInput ?? PromptTokens;
        public long Output => ReportedOutput ?? CountedOutput;
    }

    public long InputTokens => _rounds.Sum(r => r.Input);
    public long OutputTokens => _rounds.Sum(r => r.Output);
    public long Credits => _rounds.Sum(r => model.Cost(r.Input, r.Output));

    // The holds of the calls after the first, with what each is charged.
    public IEnumerable<(Reservation Hold, long Credits)> MoreHolds =>
        _rounds.Where(r => r.Hold is not null).Select(r => (r.Hold!, model.Cost(r.Input, r.Output)));

    // The tool loop around one route's client.
    public IChatClient Around(IChatClient provider) =>
        new FunctionInvokingChatClient(new MeteredClient(provider, this)) { MaximumIterationsPerRequest = maxCalls };

    // A prompt's tokens with its tool calls and results, and the tools' own definitions.
    public int CountPrompt(IEnumerable<ChatMessage> messages)
    {
        var list = messages.ToList();
        return meter.Tokens.CountPrompt(list) + toolTokens + list.SelectMany(m => m.Contents).Sum(content => content switch
        {
            FunctionCallContent call => meter.Tokens.Count(call.Name) + meter.Tokens.Count(JsonSerializer.Serialize(call.Arguments)),
            FunctionResultContent result => meter.Tokens.Count(JsonSerializer.Serialize(result.Result)),
            _ => 0,
        });
    }

    // What the definitions of these tools add to every prompt.
    public static int CountTools(TokenCounter tokens, IEnumerable<AITool> tools) =>
        tools.OfType<AIFunction>().Sum(f => tokens.Count(f.Name) + tokens.Count(f.Description) + tokens.Count(f.JsonSchema.GetRawText()));

    // A call of the loop begins: the first under the turn's hold, each further one under a hold of its own.
    private async Task<Round> BeginAsync(IList<ChatMessage> prompt, CancellationToken cancellationToken)
    {
        var promptTokens = CountPrompt(prompt);
        Reservation? hold = null;
        if (_rounds.Count > 0)
        {
            (hold, var refusal) = await meter.ReserveAsync(userId, model.Cost(promptTokens, maxOutput), reason, cancellationToken);
            if (refusal is not null)
            {
                throw new ModelCallRefused(refusal);
            }
        }
        var round = new Round(hold, promptTokens);
        _rounds.Add(round);
        return round;
    }

    // What the provider reports the call used, and our count of what it produced should it report nothing.
    private void Observe(Round round, ChatResponseUpdate update)
    {
        foreach (var content in update.Contents)
        {
            switch (content)
            {
                case UsageContent usage:
                    round.ReportedInput = usage.Details.InputTokenCount ?? round.ReportedInput;
                    round.ReportedOutput = usage.Details.OutputTokenCount ?? round.ReportedOutput;
                    break;
                case TextContent text:
                    round.CountedOutput += meter.Tokens.Count(text.Text);
                    break;
                case FunctionCallContent call:
                    round.CountedOutput += meter.Tokens.Count(call.Name) + meter.Tokens.Count(JsonSerializer.Serialize(call.Arguments));
                    break;
            }
        }
    }

    private sealed class MeteredClient(IChatClient provider, MeteredRounds rounds) : DelegatingChatClient(provider)
    {
        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var prompt = messages as IList<ChatMessage> ?? messages.ToList();
            var round = await rounds.BeginAsync(prompt, cancellationToken);
            await foreach (var update in base.GetStreamingResponseAsync(prompt, options, cancellationToken))
            {
                rounds.Observe(round, update);
                yield return update;
            }
        }

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("Every call to the model is streamed (UpstreamCall).");
    }
}

// A further model call of a tool loop could not be held: the turn ends there, with what was produced charged.
public sealed class ModelCallRefused(Refusal refusal) : Exception(refusal.Detail)
{
    public Refusal Refusal { get; } = refusal;
}
