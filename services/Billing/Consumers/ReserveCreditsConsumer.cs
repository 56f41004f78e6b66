using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Consumers;

// Answers Chat's reservations: a hold when the credits are there, what is missing when they are not; one at a
// time or several in one message. An invalid request throws, which MassTransit answers with a Fault the
// request client raises. A request that arrives after its time to live (its requester stopped waiting and
// cancels it) is not applied and not answered.
public sealed class ReserveCreditsConsumer(Ledger.CreditLedger ledger, IOptions<LedgerOptions> options, TimeProvider clock, LedgerMetrics metrics)
    : IConsumer<ReserveCredits>, IConsumer<ReserveCreditsBatch>
{
    // How long a reservation waits for a wallet its user's sign-up grant has not made yet (well inside Chat's 5 s).
    private static readonly TimeSpan FirstGrantWait = TimeSpan.FromSeconds(2);

    // Answers are not written to the broker's disk: one lost in a broker restart is a timeout, which Chat cancels.
    public async Task Consume(ConsumeContext<ReserveCredits> context)
    {
        Validate(context.Message);
        if (Abandoned(context))
        {
            return;
        }
        switch (await ReserveAsync(context.Message, context.CancellationToken))
        {
            case CreditsReserved reserved:
                await context.RespondAsync(reserved, (SendContext<CreditsReserved> reply) => reply.Durable = false);
                break;
            case CreditsInsufficient insufficient:
                await context.RespondAsync(insufficient, (SendContext<CreditsInsufficient> reply) => reply.Durable = false);
                break;
        }
    }

    // The holds are asked of the ledger together, so its group commit writes them in one transaction.
    public async Task Consume(ConsumeContext<ReserveCreditsBatch> context)
    {
        var holds = context.Message.Holds ?? [];
        if (holds.Count is 0 or > ReserveCreditsBatch.MaxHolds)
        {
            throw new ArgumentOutOfRangeException(nameof(ReserveCreditsBatch.Holds), holds.Count, $"A batch holds 1 to {ReserveCreditsBatch.MaxHolds} reservations.");
        }
        foreach (var hold in holds)
        {
            Validate(hold);
        }
        if (Abandoned(context))
        {
            return;
        }
        // A hold cancelled while it was being made is in neither list: its requester has gone. The batch may carry other
        // requesters' holds (Chat's ReservationBatches), who still get theirs.
        var answers = await Task.WhenAll(holds.Select(hold => ReserveAsync(hold, context.CancellationToken)));
        await context.RespondAsync(
            new CreditsReservedBatch(answers.OfType<CreditsReserved>().ToList(), answers.OfType<CreditsInsufficient>().ToList()),
            (SendContext<CreditsReservedBatch> reply) => reply.Durable = false);
    }

    private bool Abandoned(ConsumeContext context)
    {
        if (context.ExpirationTime is not { } expires || expires > clock.GetUtcNow().UtcDateTime)
        {
            return false;
        }
        // Counted, not logged: after a stall there can be thousands of them at once.
        metrics.Abandoned();
        return true;
    }

    private void Validate(ReserveCredits request)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.Amount, nameof(request.Amount));
        if (request.HoldFor <= TimeSpan.Zero || request.HoldFor > options.Value.MaxHold)
        {
            throw new ArgumentOutOfRangeException(nameof(request.HoldFor), request.HoldFor, $"HoldFor must be more than zero and at most {options.Value.MaxHold}.");
        }
    }

    // Null when the requester cancelled the reservation before it was made.
    private async Task<object?> ReserveAsync(ReserveCredits request, CancellationToken cancellationToken)
    {
        var expiresAt = clock.GetUtcNow().Add(request.HoldFor);
        var result = await ledger.ReserveAsync(request.ReservationId, request.UserId, request.Amount, expiresAt, Reason(request.Reason), request.Holder, cancellationToken);
        if (result is { Outcome: TransferOutcome.Insufficient, Balance: 0, Held: 0 } && await GrantArrivedAsync(request.UserId, cancellationToken))
        {
            result = await ledger.ReserveAsync(request.ReservationId, request.UserId, request.Amount, expiresAt, Reason(request.Reason), request.Holder, cancellationToken);
        }
        return result.Outcome switch
        {
            TransferOutcome.Cancelled => null,
            TransferOutcome.Created or TransferOutcome.Exists =>
                new CreditsReserved(request.ReservationId, request.UserId, result.Amount, result.Available, result.ExpiresAt ?? expiresAt, result.Balance),
            TransferOutcome.Insufficient => new CreditsInsufficient(request.ReservationId, request.UserId, request.Amount, result.Available),
            _ => throw new InvalidOperationException($"Reservation {request.ReservationId} was made before for another user or amount."),
        };
    }

    // A user's first request can reach Billing before their sign-up grant: the grant travels from Identity's commit through
    // its outbox and the broker, the request from the register answer through the edge and Chat (a trial's first request
    // right after signing up was refused "Available: 0"). A wallet that does not exist yet is waited for, briefly.
    private async Task<bool> GrantArrivedAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (options.Value.SignUpGrant == 0 || await ledger.WalletExistsAsync(userId, cancellationToken))
        {
            return false;
        }
        var deadline = clock.GetUtcNow() + FirstGrantWait;
        while (clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), clock, cancellationToken);
            if (await ledger.WalletExistsAsync(userId, cancellationToken))
            {
                return true;
            }
        }
        return false;
    }

    private static string Reason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? "Reservation" : reason.Length > 200 ? reason[..200] : reason;
}

// Reservations are written in batches (Ledger's group commit), so more of them in flight make bigger
// batches rather than a longer queue on a wallet's row.
public sealed class ReserveCreditsConsumerDefinition : ConsumerDefinition<ReserveCreditsConsumer>
{
    private const int InFlight = 64;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<ReserveCreditsConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = InFlight;
        endpoint.ConcurrentMessageLimit = InFlight;
    }
}
