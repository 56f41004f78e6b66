using Gateway.Billing.Infrastructure;
using Gateway.Billing.Purchases;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.Billing.Portal;

// Opens Stripe's billing portal for an organisation's Stripe customer, making that customer the first time.
public sealed class BillingPortal(BillingDbContext db, StripeClients stripe, IOptions<StripeOptions> options, TimeProvider time)
{
    public const string OrganizationIdKey = "organizationId";

    // pg_advisory_xact_lock(scope, key): the scope keeps these locks apart from any other use of advisory locks.
    private const int CustomerLock = 0x6f726763;

    public bool IsConfigured => options.Value.IsConfigured;

    // The portal session's URL: short-lived and for one visit, so it is made on every request, never stored.
    public async Task<string> OpenAsync(Guid organizationId, Guid callerId, string? callerEmail, CancellationToken cancellationToken)
    {
        var customerId = await CustomerOfAsync(organizationId, callerId, callerEmail, cancellationToken);
        var settings = options.Value;
        var session = await new Stripe.BillingPortal.SessionService(stripe.Create()).CreateAsync(
            new Stripe.BillingPortal.SessionCreateOptions
            {
                Customer = customerId,
                ReturnUrl = settings.PortalReturnUrl,
                Configuration = settings.PortalConfiguration,
            },
            new RequestOptions { IdempotencyKey = Guid.NewGuid().ToString() },
            cancellationToken);
        return session.Url;
    }

    private async Task<string> CustomerOfAsync(Guid organizationId, Guid callerId, string? callerEmail, CancellationToken cancellationToken)
    {
        if (await KnownCustomerAsync(organizationId, cancellationToken) is { } known)
        {
            return known;
        }

        // The first requests of an organisation take turns, so two admins opening the portal at once make one customer.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({CustomerLock}, hashtext({organizationId.ToString()}))", cancellationToken);
        if (await KnownCustomerAsync(organizationId, cancellationToken) is { } madeMeanwhile)
        {
            return madeMeanwhile;
        }

        var customer = await new CustomerService(stripe.Create()).CreateAsync(
            new CustomerCreateOptions
            {
                Email = callerEmail,
                Description = $"Gateway organisation {organizationId}",
                Metadata = new() { [OrganizationIdKey] = organizationId.ToString(), ["createdBy"] = callerId.ToString() },
            },
            // The same caller retrying (say the insert below failed) gets the customer Stripe already made, not another.
            new RequestOptions { IdempotencyKey = $"gateway-organization-customer-{organizationId}-{callerId}" },
            cancellationToken);

        db.OrganizationCustomers.Add(new OrganizationCustomer
        {
            OrganizationId = organizationId,
            StripeCustomerId = customer.Id,
            CreatedBy = callerId,
            CreatedAt = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return customer.Id;
    }

    private Task<string?> KnownCustomerAsync(Guid organizationId, CancellationToken cancellationToken) =>
        db.OrganizationCustomers.AsNoTracking()
            .Where(c => c.OrganizationId == organizationId)
            .Select(c => c.StripeCustomerId)
            .SingleOrDefaultAsync(cancellationToken);
}
