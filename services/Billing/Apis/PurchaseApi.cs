using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Billing.Ledger;
using Gateway.Billing.Purchases;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Gateway.Billing.Apis;

// Buying credits: a Stripe Checkout Session for the user, and Stripe's webhook that grants the credits
// once per checkout session. The webhook is anonymous (Stripe calls it); its proof is Stripe-Signature.
public static class PurchaseApi
{
    public const string WebhookPath = "/api/billing/stripe/webhook";
    public const int MaxWebhookBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapPurchaseApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/credits/purchase", Purchase).WithTags("Credits").WithSummary("Starts buying credits: answers the Stripe Checkout page to send the buyer to.")
            .RequireAuthorization();
        app.MapPost(WebhookPath, StripeWebhook).WithTags("Webhooks").WithSummary("Stripe's webhook: grants the credits of a paid checkout, once.").AllowAnonymous();
        return app;
    }

    public static async Task<Results<Ok<PurchaseResponse>, ProblemHttpResult>> Purchase(
        PurchaseRequest? request, ClaimsPrincipal user, StripeCheckout checkout, IOptions<StripeOptions> options,
        ILogger<StripeCheckout> logger, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (request?.AmountUsd is not { } amount)
        {
            return BillingProblems.Invalid("amountUsd", "is required");
        }
        if (amount < settings.MinimumUsd || amount > settings.MaximumUsd)
        {
            return BillingProblems.Invalid("amountUsd", $"must be between {settings.MinimumUsd} and {settings.MaximumUsd}");
        }
        if (decimal.Round(amount, 2) != amount)
        {
            return BillingProblems.Invalid("amountUsd", "must be whole cents");
        }
        if (!checkout.IsConfigured)
        {
            return BillingProblems.Unavailable($"Buying credits is not available: payments (Stripe) are not configured on this server. {StripeOptions.HowToConfigure}");
        }

        try
        {
            var url = await checkout.CreateSessionAsync(user.GetUserId(), amount, cancellationToken);
            return TypedResults.Ok(new PurchaseResponse(url, checkout.CreditsFor(amount)));
        }
        catch (StripeException ex)
        {
            logger.LogWarning("Stripe refused a checkout session: {Status} {Code}", ex.HttpStatusCode, ex.StripeError?.Code);
            return TypedResults.Problem(title: "Payment provider error", detail: "The payment provider could not start a checkout; nothing was charged. Try again later.", statusCode: StatusCodes.Status502BadGateway);
        }
    }

    public static async Task<Results<Ok, ProblemHttpResult>> StripeWebhook([AsParameters] WebhookServices services, CancellationToken cancellationToken)
    {
        var (request, ledger, options, logger) = (services.Request, services.Ledger, services.Options.Value, services.Logger);
        if (!options.IsConfigured)
        {
            return BillingProblems.Unavailable($"Payments (Stripe) are not configured on this server. {StripeOptions.HowToConfigure}");
        }
        if (request.ContentLength > MaxWebhookBytes)
        {
            return TypedResults.Problem(title: "Request body too large", detail: $"A webhook body may be at most {MaxWebhookBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var payload = await ReadAsync(request, cancellationToken);
        if (payload is null)
        {
            return TypedResults.Problem(title: "Request body too large", detail: $"A webhook body may be at most {MaxWebhookBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var signature = request.Headers["Stripe-Signature"].ToString();
        if (string.IsNullOrEmpty(signature))
        {
            return BillingProblems.Invalid("Stripe-Signature", "is required");
        }
        try
        {
            EventUtility.ValidateSignature(payload, signature, options.WebhookSecret, (long)options.WebhookTolerance.TotalSeconds);
        }
        catch (StripeException)
        {
            return BillingProblems.Invalid("Stripe-Signature", "does not prove this payload came from Stripe (wrong or too old)");
        }

        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ParseEvent(payload, throwOnApiVersionMismatch: false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return BillingProblems.Invalid("body", "is not a Stripe event");
        }

        if (stripeEvent.Type is not (EventTypes.CheckoutSessionCompleted or EventTypes.CheckoutSessionAsyncPaymentSucceeded)
            || stripeEvent.Data.Object is not Session session
            || session.PaymentStatus != "paid")
        {
            return TypedResults.Ok();
        }

        if (!Guid.TryParse(session.Metadata?.GetValueOrDefault(StripeCheckout.UserIdKey), out var userId)
            || !long.TryParse(session.Metadata?.GetValueOrDefault(StripeCheckout.CreditsKey), out var credits) || credits <= 0)
        {
            // Signed by Stripe but not a session this service opened: retrying would not change that.
            logger.LogError("Paid checkout session {SessionId} carries no Gateway purchase metadata; nothing granted", session.Id);
            return TypedResults.Ok();
        }

        var result = await ledger.PurchaseAsync(
            TransferIds.For("stripe-checkout", session.Id), userId, credits,
            $"Purchase: {credits} credits for {(session.AmountTotal ?? 0) / 100m:0.00} USD", cancellationToken);
        if (result.Outcome == TransferOutcome.Conflict)
        {
            logger.LogError("Checkout session {SessionId} was granted before with other terms; the first grant stands", session.Id);
        }
        return TypedResults.Ok();
    }

    // The signature covers the exact bytes, so the body is read raw, and never more than the limit.
    private static async Task<string?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxWebhookBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public sealed record WebhookServices(HttpRequest Request, Ledger.CreditLedger Ledger, IOptions<StripeOptions> Options, ILogger<StripeCheckout> Logger);
}

public sealed record PurchaseRequest([property: Required] decimal? AmountUsd);

public sealed record PurchaseResponse(string CheckoutUrl, long Credits);
