using System.Diagnostics;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

// Why a request was refused or failed, in words a caller can act on; each API words it in its own shape. Field: the
// request's field at fault, when one is.
public sealed record Refusal(int Status, string Title, string Detail, string? Field = null);

// Metering, exactly: reserve before the model is called, then bill what the upstream reports (or what the
// tokenizer counts when it reports nothing), committed with the messages and the UsageRecorded outbox row.
public sealed class CreditMeter(
    CreditReservations reservations, StandbyHolds standby, ChatDbContext db, OutboxSignal outbox, TokenCounter tokens, TimeProvider clock,
    IServiceScopeFactory scopes, IOptions<ChatServiceOptions> options, ILogger<UpstreamCall> upstreamLogger)
{
    // Named like the service, which its telemetry already traces.
    private static readonly ActivitySource Traces = new("Gateway.Chat");

    private (Usage Usage, UsageRecorded Message)? _staged;
    private GrowingHold? _growing;
    private MeteredRounds? _rounds;

    // The shortest answer worth calling the model for when its length is capped to what the caller can afford.
    public const int MinimumAffordableAnswer = 16;

    // A low-balance caller's hold starts at this many output tokens and grows with the answer (GrowingHold).
    public const int FirstOutput = 32;

    public TokenCounter Tokens => tokens;

    // Reserves the prompt plus the answer's limit. When the caller left the limit to us and cannot afford the
    // model's whole output limit, the hold starts at a short answer's cost (FirstOutput tokens, or what they can
    // afford) and grows with the answer while the wallet pays (GrowingHold), rather than holding everything they
    // have for one answer: so a small wallet serves as many requests at once as it can pay for. A limit the
    // caller chose is theirs: not affording it is a 402, as is affording fewer than MinimumAffordableAnswer tokens.
    // grow: false (each call of a tool loop) holds what the caller can afford once, and the answer's limit is that.
    public async Task<(Reservation Reservation, Refusal? Refusal, int MaxOutput)> ReserveForAsync(
        Guid userId, PricedModel model, int promptTokens, int maxOutput, bool limitChosenByCaller, string reason, CancellationToken cancellationToken,
        bool grow = true)
    {
        var (reservation, refusal) = await ReserveAsync(userId, model.Cost(promptTokens, maxOutput), reason, cancellationToken);
        if (reservation.Outcome != ReservationOutcome.Insufficient || limitChosenByCaller || model.OutputPrice <= 0)
        {
            return (reservation, refusal, maxOutput);
        }
        // What the wallet has: what Billing has available, and for an answer that grows, the caller's standby holds too
        // (GrowingHold grows into them); a fixed hold is one reservation, of what Billing has.
        var available = reservation.Available + (grow ? standby.ReadyCredits(userId) : 0);
        var affordable = (int)Math.Min(maxOutput - 1, Math.Floor((available - promptTokens * model.InputPrice) / model.OutputPrice));
        // What the least answer would take, not the model's whole limit, which this request never needed.
        var least = model.Cost(promptTokens, Math.Min(MinimumAffordableAnswer, maxOutput));
        if (affordable < Math.Min(MinimumAffordableAnswer, maxOutput))
        {
            return (reservation, Insufficient(least, available), maxOutput);
        }
        if (!grow)
        {
            var (fixedHold, fixedRefusal) = await ReserveAsync(userId, model.Cost(promptTokens, affordable), reason, cancellationToken);
            return (fixedHold, LeastIfRefused(fixedHold, fixedRefusal), affordable);
        }
        var first = Math.Min(affordable, FirstOutput);
        var (small, smallRefusal) = await ReserveAsync(userId, model.Cost(promptTokens, first), reason, cancellationToken);
        if (small.Held)
        {
            _growing = new GrowingHold(scopes, standby, model, small, first, affordable, reason);
        }
        // The model is told the most the caller could pay for, should nobody else spend meanwhile.
        return (small, LeastIfRefused(small, smallRefusal), affordable);

        // Others spent what was available between the two asks (a burst): refused all the same, in the words a lone
        // request gets, what the least answer takes (the third trial read "Required: 49" in a burst, "33" alone).
        Refusal? LeastIfRefused(Reservation hold, Refusal? refusal) =>
            hold.Outcome == ReservationOutcome.Insufficient ? Insufficient(least, hold.Available) : refusal;
    }

    public async Task<(Reservation Reservation, Refusal? Refusal)> ReserveAsync(Guid userId, long amount, string reason, CancellationToken cancellationToken)
    {
        amount = Math.Max(1, amount);
        if (standby.TryTake(userId, amount, out var ready))
        {
            return (ready, null);
        }
        var askedAt = clock.GetUtcNow();
        Reservation reservation;
        try
        {
            reservation = await reservations.ReserveAsync(userId, amount, reason, cancellationToken);
            standby.Reported(userId, reservation, askedAt);
            if (reservation.Outcome == ReservationOutcome.Insufficient && await standby.TakeAfterRefillAsync(userId, amount, cancellationToken) is { } refilled)
            {
                return (refilled, null);
            }
        }
        finally
        {
            standby.OwnPathDone(userId, amount);
        }
        return (reservation, reservation.Outcome switch
        {
            ReservationOutcome.Reserved => null,
            ReservationOutcome.Insufficient => Insufficient(reservation.Amount, reservation.Available),
            _ => new Refusal(StatusCodes.Status503ServiceUnavailable, "Billing unavailable",
                "Billing did not confirm the reservation in time, so nothing was sent to the model and nothing was charged. Try again shortly."),
        });
    }

    // The caller's standby holds, all taken: for a hold that needs more than Billing has available (MeteredRounds).
    public IReadOnlyList<Reservation> TakeStandbyHolds(Guid userId) => standby.TakeAll(userId);

    public static Refusal Insufficient(long required, long available) =>
        new(StatusCodes.Status402PaymentRequired, "Insufficient credits", $"Required: {required}, Available: {available}");

    // toolLoop: the turn's model calls in a tool loop, each metered (MeteredRounds); its usage is theirs.
    public UpstreamCall Call(PricedModel model, IList<ChatMessage> prompt, int maxOutputTokens, CancellationToken caller,
        Microsoft.Extensions.AI.ChatOptions? settings = null, MeteredRounds? toolLoop = null)
    {
        settings ??= new Microsoft.Extensions.AI.ChatOptions();
        settings.MaxOutputTokens = maxOutputTokens;
        _rounds = toolLoop;
        return new UpstreamCall(model, prompt, settings, options.Value.Upstream.Timeout, caller, _growing, _growing is null ? null : tokens.Count,
            options.Value.Upstream.FirstTokenTimeout, upstreamLogger, toolLoop is null ? null : toolLoop.Around);
    }

    // Nothing was produced: the whole hold goes back.
    public Task ReleaseAsync(Reservation reservation, string reason) =>
        reservations.CancelAsync([.. _growing?.Holds ?? [reservation], .. _rounds?.MoreHolds.Select(h => h.Hold) ?? []], reason);

    // Stages the usage and its UsageRecorded; the caller adds its own rows and commits once.
    public Usage Stage(Reservation reservation, string kind, PricedModel model, int promptTokens, UpstreamCall call, long? flatPrice = null)
    {
        if (_rounds is not null)
        {
            return Stage(reservation, kind, model.Id, _rounds.InputTokens, _rounds.OutputTokens, _rounds.Credits, interrupted: call.End != CallEnd.Completed);
        }
        var input = call.ReportedInputTokens ?? promptTokens;
        var output = call.ReportedOutputTokens ?? tokens.Count(call.Text);
        return Stage(reservation, kind, model.Id, input, output, flatPrice ?? model.Cost(input, output), interrupted: call.End != CallEnd.Completed);
    }

    // The same for a call that is not a chat (embeddings): what it used and cost, already known.
    public Usage Stage(Reservation reservation, string kind, string model, long input, long output, long credits, bool interrupted)
    {
        var usage = new Usage
        {
            ReservationId = reservation.Id,
            UserId = reservation.UserId,
            Kind = kind,
            Model = model,
            InputTokens = input,
            OutputTokens = output,
            Credits = credits,
            Interrupted = interrupted,
            RecordedAt = clock.GetUtcNow(),
        };
        // A grown hold is charged hold by hold (UsageRecorded.MoreHolds); every one of them is resolved, if only for nothing.
        // The holds after the reservation's own (a grown answer's, a tool loop's): each is charged its share, the first the rest.
        var shares = _growing?.Share(usage.Credits).Skip(1) ?? _rounds?.MoreHolds;
        var charge = new UsageRecorded(usage.Id, reservation.Id, reservation.UserId, usage.Credits, input, output, model, usage.RecordedAt,
            shares?.Select(s => new HoldCharge(s.Hold.Id, s.Credits)).ToList(), kind);
        db.Usage.Add(usage);
        db.AddToOutbox(charge);
        _staged = (usage, charge);
        return usage;
    }

    // Whatever happened to the caller, the work they caused is recorded. Its own span, because Npgsql traces the
    // statements but not EF's work around them nor a COMMIT. If the database refuses the turn's rows,
    // the charge is saved alone and the failure goes on to the caller: a turn may be lost, a charge never.
    public async Task CommitAsync()
    {
        using var span = Traces.StartActivity("record usage");
        try
        {
            // Rows that are all new (a completion's usage and its event) go in one round trip, as one Npgsql batch
            // that Postgres runs as one implicit transaction (NewRows: a failing statement rolls back the ones before
            // it, NpgsqlBatchCommand.AppendErrorBarrier's documented default), without EF's unit of work, whose
            // SQL generation and tracking were a quarter of a millisecond on every request's path. A batch with an
            // UPDATE (a session's turn) goes through SaveChanges in EF's transaction: EF checks an UPDATE's row
            // count after the batch has run and must still be able to roll it back.
            if (await db.TryInsertAllAsync(CancellationToken.None))
            {
                outbox.Notify();
            }
            else
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
        }
        catch (DbUpdateException) when (_staged is { } charge)
        {
            db.ChangeTracker.Clear();
            db.Usage.Add(charge.Usage);
            db.AddToOutbox(charge.Message);
            await db.SaveChangesAsync(CancellationToken.None);
            standby.Charged(charge.Usage.UserId, charge.Usage.Credits);
            throw;
        }
        if (_staged is { } committed)
        {
            standby.Charged(committed.Usage.UserId, committed.Usage.Credits);
        }
    }

    // The wallet's balance once this charge is applied, from what Billing said at reservation time. Earlier
    // requests' charges still on their way to Billing are not in it yet; other requests' holds are not
    // spending, so they do not lower it (reporting what was available did, by a whole hold each).
    public static long BalanceAfter(Reservation reservation, long credits) => Math.Max(0, reservation.Balance - credits);
}
