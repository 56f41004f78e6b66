using System.Security.Claims;
using Gateway.Billing.Portal;
using Gateway.Billing.Purchases;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Stripe;

namespace Gateway.Billing.Apis;

// The organisation's billing portal (seed 001): a Stripe Billing Portal session for its owners and admins.
public static class BillingPortalApi
{
    public const string Policy = "organization-manager";

    public static IEndpointRouteBuilder MapBillingPortalApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organization/billing", OpenPortal)
            .WithTags("Organization")
            .WithSummary("Opens the organisation's Stripe billing portal (owners and admins).")
            .RequireAuthorization(Policy)
            .WithMetadata(new ForbiddenMessage("Only the organisation's owners and admins can open its billing portal."));
        return app;
    }

    public static async Task<Results<Ok<BillingPortalResponse>, ProblemHttpResult>> OpenPortal(
        ClaimsPrincipal user, BillingPortal portal, ILogger<BillingPortal> logger, CancellationToken cancellationToken)
    {
        if (!portal.IsConfigured)
        {
            return BillingProblems.Unavailable(
                $"The billing portal is not available: payments (Stripe) are not configured on this server. {StripeOptions.HowToConfigure}");
        }

        // The policy requires the organisation claim.
        var organizationId = user.GetOrganizationId()!.Value;
        try
        {
            var url = await portal.OpenAsync(organizationId, user.GetUserId(), user.FindFirstValue(CallerClaims.Email), cancellationToken);
            return TypedResults.Ok(new BillingPortalResponse(url));
        }
        catch (StripeException ex)
        {
            // Stripe's message says what to fix (say, no default portal configuration saved in its dashboard); it holds no key.
            logger.LogWarning("Stripe refused a billing portal session for organisation {OrganizationId}: {Status} {Code} {Message}",
                organizationId, ex.HttpStatusCode, ex.StripeError?.Code, ex.StripeError?.Message);
            return ApiProblems.Problem(StatusCodes.Status502BadGateway, "Payment provider error",
                "The payment provider could not open the billing portal. Try again later; if it persists, the server's operator can see why in Billing's log.");
        }
    }
}

// Url: Stripe's billing portal for the organisation, short-lived and for one visit; ask again for a new one.
public sealed record BillingPortalResponse(string Url);
