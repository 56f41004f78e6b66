using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Consumers;

// The sign-up grant: one transfer id per user, so a second delivery finds the first grant.
public sealed class UserRegisteredConsumer(Ledger.CreditLedger ledger, IOptions<LedgerOptions> options, ILogger<UserRegisteredConsumer> logger)
    : IConsumer<UserRegistered>
{
    public async Task Consume(ConsumeContext<UserRegistered> context)
    {
        var amount = options.Value.SignUpGrant;
        if (amount == 0)
        {
            return;
        }

        var user = context.Message;
        var result = await ledger.GrantAsync(
            TransferIds.For("sign-up-grant", user.UserId), user.UserId, amount, "Sign-up bonus", user.OrganizationId, context.CancellationToken);
        if (result.Outcome == TransferOutcome.Conflict)
        {
            // The grant changed since the first delivery; the first grant stands.
            logger.LogWarning("Sign-up grant for {UserId} was already made with {Amount} credits", user.UserId, result.Amount);
        }
    }
}
