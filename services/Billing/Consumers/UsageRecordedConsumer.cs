using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;

namespace Gateway.Billing.Consumers;

// Charges what a reserved request cost: a capture of its hold (and of each hold it grew through), once per hold
// whatever is redelivered.
public sealed class UsageRecordedConsumer(Ledger.CreditLedger ledger, ILogger<UsageRecordedConsumer> logger) : IConsumer<UsageRecorded>
{
    public async Task Consume(ConsumeContext<UsageRecorded> context)
    {
        var usage = context.Message;
        var more = usage.MoreHolds ?? [];
        ArgumentOutOfRangeException.ThrowIfNegative(usage.Credits, nameof(usage.Credits));
        if (more.Any(h => h.Credits < 0) || more.Sum(h => h.Credits) > usage.Credits)
        {
            throw new ArgumentOutOfRangeException(nameof(usage.MoreHolds), "Each further hold's share must be positive or zero, and together at most Credits.");
        }

        // The further holds' captures go to the group commit together with the first one's; each has its own id.
        var reason = Reason(usage);
        var further = more.Select(hold => ledger.CaptureAsync(
            TransferIds.For("usage", $"{usage.UsageId:N}:{hold.ReservationId:N}"), hold.ReservationId, hold.Credits, reason,
            cancellationToken: context.CancellationToken)).ToList();
        var result = await ledger.CaptureAsync(
            usage.UsageId, usage.ReservationId, usage.Credits - more.Sum(h => h.Credits), reason,
            new Usage(usage.Model, usage.InputTokens, usage.OutputTokens), context.CancellationToken);
        await Task.WhenAll(further);

        if (!result.Applied)
        {
            // Nothing to retry: the hold is gone (released, captured by another usage) or never existed.
            logger.LogWarning("Usage {UsageId} for reservation {ReservationId} was not charged: {Outcome} {ResolvedBy}",
                usage.UsageId, usage.ReservationId, result.Outcome, result.ResolvedBy);
        }
        else if (result.Amount < usage.Credits)
        {
            logger.LogWarning("Usage {UsageId} cost {Credits} credits; {Charged} could be charged", usage.UsageId, usage.Credits, result.Amount);
        }
    }

    // The history's words for the charge: "Usage: icon (local-model)"; a message from before Kind, "Usage: <model>".
    private static string Reason(UsageRecorded usage) =>
        usage.Kind is { } kind ? $"Usage: {kind} ({usage.Model})" : $"Usage: {usage.Model}";
}
