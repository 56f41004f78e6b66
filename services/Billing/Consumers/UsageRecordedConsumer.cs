using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;

namespace Gateway.Billing.Consumers;

// Charges what a reserved request cost: a capture of its hold, once per hold whatever is redelivered.
public sealed class UsageRecordedConsumer(Ledger.Ledger ledger, ILogger<UsageRecordedConsumer> logger) : IConsumer<UsageRecorded>
{
    public async Task Consume(ConsumeContext<UsageRecorded> context)
    {
        var usage = context.Message;
        ArgumentOutOfRangeException.ThrowIfNegative(usage.Credits, nameof(usage.Credits));

        var result = await ledger.CaptureAsync(
            usage.UsageId, usage.ReservationId, usage.Credits, $"Usage: {usage.Model}",
            new Usage(usage.Model, usage.InputTokens, usage.OutputTokens), context.CancellationToken);

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
}
