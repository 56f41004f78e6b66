using System.ComponentModel.DataAnnotations;

namespace Gateway.Billing.Purchases;

// Stripe is optional: without SecretKey and WebhookSecret, purchases answer 503. Give both or neither.
public sealed record StripeOptions : IValidatableObject
{
    public const string Section = "Billing:Stripe";

    public string? SecretKey { get; init; }
    public string? WebhookSecret { get; init; }

    [Required, Url]
    public string ApiBase { get; init; } = "https://api.stripe.com";

    [Required, Url]
    public string SuccessUrl { get; init; } = "http://localhost:8080/billing?purchase=success";

    [Required, Url]
    public string CancelUrl { get; init; } = "http://localhost:8080/billing?purchase=cancelled";

    // Where Stripe's billing portal sends the customer back (GET /api/organization/billing).
    [Required, Url]
    public string PortalReturnUrl { get; init; } = "http://localhost:8080/settings/billing";

    // A portal configuration made in Stripe's dashboard (bpc_…); none: the account's default configuration.
    [RegularExpression("^bpc_[A-Za-z0-9]+$", ErrorMessage = "Billing:Stripe:PortalConfiguration must be a Stripe portal configuration id (bpc_…).")]
    public string? PortalConfiguration { get; init; }

    [Range(1, 1_000_000)]
    public long CreditsPerUsd { get; init; } = 1000;

    [Range(typeof(decimal), "0.5", "100000")]
    public decimal MinimumUsd { get; init; } = 1;

    [Range(typeof(decimal), "0.5", "100000")]
    public decimal MaximumUsd { get; init; } = 1000;

    // How old a signed webhook may be; older ones are refused as replays.
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan WebhookTolerance { get; init; } = TimeSpan.FromMinutes(5);

    public bool IsConfigured => !string.IsNullOrEmpty(SecretKey) && !string.IsNullOrEmpty(WebhookSecret);

    // What a problem says when Stripe is not configured: the settings that enable it, by both of their names.
    public const string HowToConfigure =
        "Set Billing:Stripe:SecretKey and Billing:Stripe:WebhookSecret (environment Billing__Stripe__SecretKey and "
        + "Billing__Stripe__WebhookSecret) on the Billing service to enable it.";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(SecretKey) != string.IsNullOrEmpty(WebhookSecret))
        {
            yield return new ValidationResult("Billing:Stripe:SecretKey and Billing:Stripe:WebhookSecret are needed together.", [nameof(SecretKey), nameof(WebhookSecret)]);
        }
        if (MinimumUsd > MaximumUsd)
        {
            yield return new ValidationResult("Billing:Stripe:MinimumUsd must not exceed MaximumUsd.", [nameof(MinimumUsd)]);
        }
    }

    // Never print the keys.
    public override string ToString() => $"StripeOptions {{ ApiBase = {ApiBase}, Configured = {IsConfigured} }}";
}
