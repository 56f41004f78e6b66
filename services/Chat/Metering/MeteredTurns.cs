using System.Text.Json;
using Gateway.Chat.Apis;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Metering;

// One paid call to the model: the model and the prompt, the answer's limit, and how it is priced: by the token (the
// prompt and what is produced, held up to the limit, a low balance's hold growing with the answer) or, for a
// generation (an icon, a page), at a flat price charged only when the format delivers what was produced.
public sealed record MeteredTurn(PricedModel Model, IList<AI.ChatMessage> Prompt, int PromptTokens, int MaxOutput)
{
    // A limit the caller set is theirs to afford (a 402 when they cannot); one left to us is capped to what they can.
    public bool LimitChosenByCaller { get; init; }

    public AI.ChatOptions? Settings { get; init; }

    public long? FlatPrice { get; init; }

    // Answered as a stream of events; otherwise as one answer once the model has finished.
    public bool Stream { get; init; }

    // Tools the model may call (a running assistant's); each call of the tool loop is metered (MeteredRounds).
    public IList<AI.AITool>? Tools { get; init; }
    public int ToolTokens { get; init; }
    public int MaxModelCalls { get; init; } = 1;

    // What a retry with the same Idempotency-Key must match.
    public string RequestHash { get; init; } = "";
}

// A turn whose usage is staged: what the format words its answer from (and adds its own rows beside).
public sealed record SettledTurn(Guid Id, long Created, PricedModel Model, UpstreamCall Call, Usage Usage, long Balance);

// The one metered path: claim the Idempotency-Key, reserve, call the model (always streamed upstream), answer as one
// object or as a stream, and bill what was produced, whatever became of the caller; on every way out that charges
// nothing, the hold and the key's claim go back. Every endpoint that calls the model comes here with its own
// TurnFormat; none reserves, releases or charges by itself. One per request.
public sealed class MeteredTurns(CreditMeter meter, IdempotencyKeys keys, ProviderKeys providerKeys, TimeProvider clock)
{
    public async Task<TResult> RunAsync<TAnswer, TResult>(HttpContext http, MeteredTurn turn, TurnFormat<TAnswer, TResult> format)
    {
        var cancellationToken = http.RequestAborted;
        var userId = http.User.GetUserId();
        // The model's routes as this caller may use them (their own provider keys); refused before anything is held.
        var (model, keyRefusal) = await providerKeys.ForCallerAsync(turn.Model, http.Request.Headers[CallerAuthentication.HeaderName], cancellationToken);
        if (keyRefusal is not null)
        {
            return format.Refused(keyRefusal);
        }

        var claim = IdempotencyClaim.None;
        if (format.Endpoint is { } endpoint)
        {
            string? key = http.Request.Headers[IdempotencyKeys.Header];
            if (IdempotencyKeys.Problem(key) is { } keyProblem)
            {
                return format.InvalidKey(keyProblem);
            }
            claim = await keys.ClaimAsync(userId, key, endpoint, turn.RequestHash, cancellationToken);
            switch (claim)
            {
                case Replay replay:
                    http.Response.Headers["Idempotent-Replayed"] = "true";
                    var stored = JsonSerializer.Deserialize<TAnswer>(replay.Response, format.Json)!;
                    return turn.Stream ? format.Streamed(new EventStreamResult(events => format.ReplayAsync(events, stored))) : format.Answered(stored);
                case StillRunning:
                    return format.KeyStillRunning();
                case KeyReused:
                    return format.KeyMismatch();
            }
        }

        var reason = $"{char.ToUpperInvariant(format.Kind[0])}{format.Kind[1..]}: {model.Id}";
        Reservation reservation;
        Refusal? refusal;
        var maxOutput = turn.MaxOutput;
        if (turn.FlatPrice is { } price)
        {
            (reservation, refusal) = await meter.ReserveAsync(userId, price, reason, cancellationToken);
        }
        else
        {
            (reservation, refusal, maxOutput) = await meter.ReserveForAsync(
                userId, model, turn.PromptTokens, turn.MaxOutput, turn.LimitChosenByCaller, reason, cancellationToken, grow: turn.Tools is null);
        }
        if (refusal is not null)
        {
            await keys.ReleaseAsync(claim);
            return format.Refused(refusal);
        }

        try
        {
            await format.HeldAsync(reservation.Id);
        }
        catch
        {
            await meter.ReleaseAsync(reservation, "The turn could not be recorded before the model was called");
            await keys.ReleaseAsync(claim);
            throw;
        }

        var settings = turn.Settings;
        MeteredRounds? toolLoop = null;
        if (turn.Tools is { Count: > 0 } tools)
        {
            settings = (settings ?? new AI.ChatOptions()).Clone();
            settings.Tools = tools;
            toolLoop = new MeteredRounds(meter, model, reservation, turn.MaxOutput, turn.LimitChosenByCaller, turn.ToolTokens, turn.MaxModelCalls, reason);
        }
        var call = meter.Call(model, turn.Prompt, maxOutput, cancellationToken, settings, toolLoop);
        var first = await call.NextAsync();
        if (!call.ProducedOutput && call.End is CallEnd.Failed or CallEnd.CallerLeft)
        {
            return format.Refused(await NotChargedAsync(format.Undelivered(call) ?? call.FailureDetail ?? "The caller left before the model answered"));
        }

        var created = clock.GetUtcNow().ToUnixTimeSeconds();

        // Nothing produced, or nothing the format can deliver: the whole hold goes back and the key may be used again.
        async Task<Refusal> NotChargedAsync(string why)
        {
            await call.DisposeAsync();
            await meter.ReleaseAsync(reservation, why);
            await keys.ReleaseAsync(claim);
            await format.DiscardedAsync(why);
            return format.NotCharged(call, why);
        }

        // Records the turn, whatever became of the caller: the usage, the format's own rows and the key's answer, together.
        // Lost: the turn's own rows were refused and the charge was saved alone (CreditMeter.CommitAsync), said so to the caller.
        async Task<(TAnswer Answer, Usage Usage, Refusal? Lost)> SettleAsync()
        {
            await call.DisposeAsync();
            var usage = meter.Stage(reservation, format.Kind, model, turn.PromptTokens, call, turn.FlatPrice);
            var answer = format.Answer(new SettledTurn(reservation.Id, created, model, call, usage, CreditMeter.BalanceAfter(reservation, usage.Credits)));
            keys.Complete(claim, () => JsonSerializer.Serialize(answer, format.Json));
            try
            {
                await meter.CommitAsync();
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
            {
                // The session the turn belongs to was deleted while it ran (the third trial got a 500, charged).
                return (answer, usage, new Refusal(StatusCodes.Status409Conflict, "Session deleted",
                    $"The session was deleted while this turn ran, so its answer was not kept; what the model produced was charged ({usage.Credits} credits)."));
            }
            return (answer, usage, null);
        }

        if (!turn.Stream)
        {
            for (var piece = first; piece is not null; piece = await call.NextAsync())
            {
                format.Read(piece);
            }
            format.OutputEnded(call);
            if (format.Undelivered(call) is { } undelivered)
            {
                return format.Refused(await NotChargedAsync(undelivered));
            }
            var (answer, usage, lost) = await SettleAsync();
            if (lost is not null)
            {
                return format.Refused(lost);
            }
            // Failed after some output: what was produced is billed, as for a stream that breaks off, and said so.
            return call.End == CallEnd.Failed
                ? format.Refused(new Refusal(call.FailureStatus, call.FailureStatus == StatusCodes.Status402PaymentRequired ? "Insufficient credits" : "Model failed",
                    $"{Sentence(call.FailureDetail)} {format.ChargedAfterFailure(answer, usage)}"))
                : format.Answered(answer);
        }

        return format.Streamed(new EventStreamResult(async events =>
        {
            var sent = await format.StartAsync(events, reservation.Id, created, model.Id);
            var piece = first;
            while (sent && piece is not null)
            {
                sent = await format.SendAsync(events, piece);
                piece = sent ? await call.NextAsync() : null;
            }
            if (!sent)
            {
                call.CallerLeft(); // the caller has gone: the model is stopped, and what it produced until now is billed
            }
            await format.OutputEndedAsync(events, call);
            if (format.Undelivered(call) is { } undelivered)
            {
                await format.NotChargedAsync(events, await NotChargedAsync(undelivered));
                return;
            }
            var (answer, _, lost) = await SettleAsync();
            await format.EndAsync(events, answer, lost ?? (call.End == CallEnd.Failed ? new Refusal(call.FailureStatus, "Model failed", call.FailureDetail!) : null));
        }));
    }

    // A reason followed by another sentence ends with a full stop ("Required: 10, Available: 0" does not).
    private static string Sentence(string? text) => text is null or "" ? "" : text.EndsWith('.') ? text : text + ".";
}

// How one endpoint words a metered turn: its answer as one object or as a stream of events, its refusals, and the
// rows it keeps beside the usage (a chat's session, an icon). One per request; MeteredTurns does the money.
public abstract class TurnFormat<TAnswer, TResult>
{
    // The usage row's kind, and the hold's reason.
    public abstract string Kind { get; }

    // The Idempotency-Key's scope; null where the key is not honoured.
    public virtual string? Endpoint => null;

    // How the answer is stored for an Idempotency-Key's replay.
    public virtual JsonSerializerOptions Json => JsonSerializerOptions.Web;

    public abstract TResult Refused(Refusal refusal);

    public virtual TResult InvalidKey(string problem) =>
        Refused(new Refusal(StatusCodes.Status400BadRequest, ApiProblems.InvalidTitle, $"The field '{IdempotencyKeys.Header}' {problem}.", IdempotencyKeys.Header));

    public virtual TResult KeyStillRunning() =>
        Refused(new Refusal(StatusCodes.Status409Conflict, "Conflict", "A request with this Idempotency-Key is still running; retry when it has finished."));

    public virtual TResult KeyMismatch() =>
        Refused(new Refusal(StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused",
            "This Idempotency-Key was used for a different request; use a new key for a new request."));

    // The answer once the model has finished (or a stored one, replayed).
    public abstract TResult Answered(TAnswer answer);

    public virtual TResult Streamed(EventStreamResult stream) => throw new NotSupportedException($"{GetType().Name} does not stream.");

    // Words the answer from the staged usage, and stages the format's own rows to be committed with it.
    public abstract TAnswer Answer(SettledTurn turn);

    // Why what the call produced cannot be delivered, so that nothing is charged; null to deliver it and charge what it
    // cost (a call that failed, or whose caller left, before any output is never charged, whatever this says).
    public virtual string? Undelivered(UpstreamCall call) => null;

    // A turn that charged nothing, in the caller's words.
    public virtual Refusal NotCharged(UpstreamCall call, string why) =>
        new(call.End == CallEnd.Failed ? call.FailureStatus : 499, "Model failed", why);

    // The model failed after output began: what the caller was charged for, in a sentence.
    public virtual string ChargedAfterFailure(TAnswer answer, Usage usage) =>
        $"The {usage.OutputTokens} tokens produced before it failed were charged ({usage.Credits} credits).";

    // The hold is made and the model is about to be called (a generation stores itself as running); a failure here
    // releases the hold.
    public virtual Task HeldAsync(Guid reservationId) => Task.CompletedTask;

    // The hold went back and nothing was charged (the model failed, the caller left, the output was not delivered).
    public virtual Task DiscardedAsync(string why) => Task.CompletedTask;

    // Each piece of an answer that is not streamed, as it arrives; then the end of the output.
    public virtual void Read(AnswerPiece piece)
    {
    }

    public virtual void OutputEnded(UpstreamCall call)
    {
    }

    // A stream: its opening events, each piece (false: the caller has gone), the end of the output, and the closing
    // events, in one write with the end of the response (failure: the model failed midway, and what it produced was charged).
    public virtual Task<bool> StartAsync(EventStream events, Guid id, long created, string model) => Task.FromResult(true);

    public virtual Task<bool> SendAsync(EventStream events, AnswerPiece piece) => throw new NotSupportedException($"{GetType().Name} does not stream.");

    public virtual Task OutputEndedAsync(EventStream events, UpstreamCall call) => Task.CompletedTask;

    public virtual Task EndAsync(EventStream events, TAnswer answer, Refusal? failure) => throw new NotSupportedException($"{GetType().Name} does not stream.");

    // A streamed answer that cannot be delivered (a generation that is not what was asked for): nothing was charged.
    public virtual Task NotChargedAsync(EventStream events, Refusal refusal) => throw new NotSupportedException($"{GetType().Name} delivers every streamed answer.");

    // An Idempotency-Key's stored answer, streamed again.
    public virtual Task ReplayAsync(EventStream events, TAnswer stored) => throw new NotSupportedException($"{GetType().Name} does not stream.");
}
