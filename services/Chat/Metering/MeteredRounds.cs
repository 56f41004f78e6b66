using System.Runtime.CompilerServices;
using System.Text.Json;
using Gateway.Chat.Upstream;
using Microsoft.Extensions.AI;

namespace Gateway.Chat.Metering;

// The model calls of one turn's tool loop (Microsoft.Extensions.AI's function invocation around the provider's client),
// each metered as a chat call is: before each call its worst case (its prompt, with the tool calls and results so far,
// plus the output limit) is held. The first call is under the turn's own hold; a further call uses what earlier calls
// left of the holds, and holds the rest it needs first; a wallet that cannot hold that holds what it can (the caller's
// standby holds too, which Billing counts as held) and the call's limit is what that pays for (as for a chat), and one
// that cannot pay even a short answer ends the turn there with a 402 (ModelCallRefused). What each call used (the
// provider's usage, else our count) is charged: one usage row for the turn, shared over its holds in the order they
// were made (MoreHolds).
public sealed class MeteredRounds(
    CreditMeter meter, PricedModel model, Reservation first, int maxOutput, bool limitChosenByCaller, int toolTokens, int maxCalls, string reason)
{
    private readonly List<Round> _rounds = [];
    private readonly List<Reservation> _more = [];

    private sealed class Round(int promptTokens)
    {
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

    // What the turn's holds have left after what its calls used.
    private long Spare => first.Amount + _more.Sum(h => h.Amount) - Credits;

    // The holds taken after the turn's own, with their share of the charge (the turn's own hold is charged the rest).
    public IEnumerable<(Reservation Hold, long Credits)> MoreHolds => HoldShares.Share([first, .. _more], Credits).Skip(1);

    // The tool loop around one route's client.
    public IChatClient Around(IChatClient provider) =>
        new FunctionInvokingChatClient(new MeteredClient(provider, this)) { MaximumIterationsPerRequest = maxCalls };

    // A prompt's tokens with its tool calls and results, and the tools' own definitions.
    public int CountPrompt(IEnumerable<ChatMessage> messages) => meter.Tokens.CountPrompt(messages) + toolTokens;

    // What the definitions of these tools add to every prompt.
    public static int CountTools(TokenCounter tokens, IEnumerable<AITool> tools) =>
        tools.OfType<AIFunction>().Sum(f => tokens.Count(f.Name) + tokens.Count(f.Description) + tokens.Count(f.JsonSchema.GetRawText()));

    // A call of the loop begins: the first under the turn's hold, each further one under a hold of its own.
    private async Task<(Round Round, ChatOptions? Options)> BeginAsync(IList<ChatMessage> prompt, ChatOptions? options, CancellationToken cancellationToken)
    {
        var promptTokens = CountPrompt(prompt);
        if (_rounds.Count > 0)
        {
            var limit = maxOutput;
            var needed = model.Cost(promptTokens, maxOutput) - Spare;
            if (needed > 0)
            {
                var (hold, refusal) = await meter.ReserveAsync(first.UserId, needed, reason, cancellationToken);
                if (hold.Outcome == ReservationOutcome.Insufficient)
                {
                    // Billing counts the caller's standby holds as held: they are the caller's own credits, so the call takes
                    // them (as a growing answer does) and then what Billing has, before it settles for a shorter answer.
                    _more.AddRange(meter.TakeStandbyHolds(first.UserId));
                    var missing = model.Cost(promptTokens, maxOutput) - Spare;
                    if (missing > 0 && hold.Available > 0)
                    {
                        (hold, refusal) = await meter.ReserveAsync(first.UserId, Math.Min(missing, hold.Available), reason, cancellationToken);
                    }
                }
                if (hold.Outcome == ReservationOutcome.Unavailable)
                {
                    throw new ModelCallRefused(refusal!);
                }
                if (hold.Held)
                {
                    _more.Add(hold);
                }
                if (Spare < model.Cost(promptTokens, maxOutput))
                {
                    // What the holds pay for, as a chat's answer is capped to what its caller can afford; a limit the caller
                    // chose is theirs, and not affording it (or a short answer) ends the turn here.
                    limit = model.OutputPrice > 0 ? (int)Math.Min(maxOutput - 1, Math.Floor((Spare - promptTokens * model.InputPrice) / model.OutputPrice)) : 0;
                    if (limitChosenByCaller || limit < CreditMeter.MinimumAffordableAnswer)
                    {
                        throw new ModelCallRefused(CreditMeter.Insufficient(
                            model.Cost(promptTokens, limitChosenByCaller ? maxOutput : CreditMeter.MinimumAffordableAnswer), Spare));
                    }
                }
            }
            if (limit != options?.MaxOutputTokens)
            {
                options = options?.Clone() ?? new ChatOptions();
                options.MaxOutputTokens = limit;
            }
        }
        var round = new Round(promptTokens);
        _rounds.Add(round);
        return (round, options);
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
            var (round, limited) = await rounds.BeginAsync(prompt, options, cancellationToken);
            await foreach (var update in base.GetStreamingResponseAsync(prompt, limited, cancellationToken))
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
