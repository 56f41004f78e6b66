using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;

namespace Gateway.Billing.Consumers;

// Gives a cancelled reservation's credits back, or, when the hold is not made yet, makes sure it never is; the
// release's id follows from the reservation's.
public sealed class ReservationCancelledConsumer(Ledger.CreditLedger ledger) : IConsumer<ReservationCancelled>
{
    public Task Consume(ConsumeContext<ReservationCancelled> context) =>
        ledger.ReleaseAsync(
            TransferIds.For("release", context.Message.ReservationId), context.Message.ReservationId, context.Message.UserId,
            $"Cancelled: {context.Message.Reason}", context.CancellationToken);
}
