namespace Gateway.Billing.Portal;

// The Stripe customer that stands for an organisation, made the first time an owner or admin opens the billing portal.
public sealed class OrganizationCustomer
{
    public Guid OrganizationId { get; init; }
    public string StripeCustomerId { get; init; } = "";
    // The owner or admin whose request made it.
    public Guid CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
