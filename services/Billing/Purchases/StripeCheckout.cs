using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Gateway.Billing.Purchases;

// Creates Stripe Checkout Sessions. The session carries who buys and how many credits, so the webhook
// grants exactly what was offered whatever the price list says by then.
public sealed class StripeCheckout(StripeClients stripe, IOptions<StripeOptions> options)
{
    public const string UserIdKey = "userId";
    public const string CreditsKey = "credits";

    public bool IsConfigured => options.Value.IsConfigured;

    public long CreditsFor(decimal amountUsd) => (long)decimal.Floor(amountUsd * options.Value.CreditsPerUsd);

    public async Task<string> CreateSessionAsync(Guid userId, decimal amountUsd, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var credits = CreditsFor(amountUsd);
        var session = await new SessionService(stripe.Create()).CreateAsync(new SessionCreateOptions
        {
            Mode = "payment",
            ClientReferenceId = userId.ToString(),
            SuccessUrl = settings.SuccessUrl,
            CancelUrl = settings.CancelUrl,
            Metadata = new() { [UserIdKey] = userId.ToString(), [CreditsKey] = credits.ToString() },
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = "usd",
                        UnitAmount = (long)(amountUsd * 100),
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = $"{credits:N0} credits" },
                    },
                },
            ],
        },
        // One key per purchase attempt, so an HTTP-level retry does not open a second session.
        new RequestOptions { IdempotencyKey = Guid.NewGuid().ToString() },
        cancellationToken);

        return session.Url;
    }
}
