using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;

namespace Gateway.Billing.Consumers;

// Gives a cancelled reservation's credits back; the release's id follows from the reservation's.
public sealed class ReservationCancelledConsumer(Ledger.Ledger ledger) : IConsumer<ReservationCancelled>
{
    public Task Consume(ConsumeContext<ReservationCancelled> context) =>
        ledger.ReleaseAsync(
            TransferIds.For("release", context.Message.ReservationId), context.Message.ReservationId,
            $"Cancelled: {context.Message.Reason}", context.CancellationToken);
}
