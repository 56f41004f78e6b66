using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Consumers;

// Answers Chat's reservation: a hold when the credits are there, what is missing when they are not.
// An invalid request throws, which MassTransit answers with a Fault the request client raises.
public sealed class ReserveCreditsConsumer(Ledger.Ledger ledger, IOptions<LedgerOptions> options, TimeProvider clock)
    : IConsumer<ReserveCredits>
{
    public async Task Consume(ConsumeContext<ReserveCredits> context)
    {
        var request = context.Message;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(request.Amount, nameof(request.Amount));
        if (request.HoldFor <= TimeSpan.Zero || request.HoldFor > options.Value.MaxHold)
        {
            throw new ArgumentOutOfRangeException(nameof(request.HoldFor), request.HoldFor, $"HoldFor must be more than zero and at most {options.Value.MaxHold}.");
        }

        var expiresAt = clock.GetUtcNow().Add(request.HoldFor);
        var result = await ledger.ReserveAsync(request.ReservationId, request.UserId, request.Amount, expiresAt, Reason(request.Reason), context.CancellationToken);

        // Answers are not written to the broker's disk: one lost in a broker restart is a timeout, which Chat cancels.
        switch (result.Outcome)
        {
            case TransferOutcome.Created or TransferOutcome.Exists:
                await context.RespondAsync(new CreditsReserved(request.ReservationId, request.UserId, result.Amount, result.Available, result.ExpiresAt ?? expiresAt, result.Balance), (SendContext<CreditsReserved> reply) => reply.Durable = false);
                break;
            case TransferOutcome.Insufficient:
                await context.RespondAsync(new CreditsInsufficient(request.ReservationId, request.UserId, request.Amount, result.Available), (SendContext<CreditsInsufficient> reply) => reply.Durable = false);
                break;
            default:
                throw new InvalidOperationException($"Reservation {request.ReservationId} was made before for another user or amount.");
        }
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
