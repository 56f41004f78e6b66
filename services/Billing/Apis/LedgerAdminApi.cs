using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Billing.Ledger;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Billing.Apis;

// For platform administrators (Billing:Ledger:Administrators): the audit, and grants or corrections
// with a reason, each a new transfer that names who made it.
public static class LedgerAdminApi
{
    public const string Policy = "ledger-admin";

    // Far beyond any real correction, and far from long's ends: negating the amount or adding it to a balance
    // cannot overflow (long.MinValue was a 500).
    public const long MaxAdjustment = 1_000_000_000;

    public static IEndpointRouteBuilder MapLedgerAdminApi(this IEndpointRouteBuilder app)
    {
        // The path, and one under /api/billing that the edge routes to this service today.
        foreach (var prefix in new[] { "/api/admin/ledger", "/api/billing/admin/ledger" })
        {
            var admin = app.MapGroup(prefix).WithTags("Ledger administration").RequireAuthorization(Policy)
                .WithMetadata(new ForbiddenMessage("Only platform administrators (Billing:Ledger:Administrators, by user id) may use the ledger's administration."));
            admin.MapGet("/audit", GetAudit).WithSummary("Proves the books: every wallet agrees with its transfers and holds, and credits and debits add up (platform administrators).");
            admin.MapPost("/adjustments", PostAdjustment).WithSummary("Grants credits to a user or takes them back, with a reason (platform administrators).");
        }
        return app;
    }

    public static async Task<Ok<AuditReport>> GetAudit(LedgerAudit audit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.RunAsync(cancellationToken));

    // Positive amounts are grants, negative ones take credits back (never more than available).
    public static async Task<Results<Ok<AdjustmentResponse>, ProblemHttpResult>> PostAdjustment(
        AdjustmentRequest? request, ClaimsPrincipal user, Ledger.CreditLedger ledger, CancellationToken cancellationToken)
    {
        if (request?.TransferId is not { } transferId || transferId == Guid.Empty)
        {
            return BillingProblems.Invalid("transferId", "is required (a new id per adjustment; repeating it repeats nothing)");
        }
        if (request.UserId is not { } userId || userId == Guid.Empty)
        {
            return BillingProblems.Invalid("userId", "is required");
        }
        if (request.Amount is not { } amount || amount == 0)
        {
            return BillingProblems.Invalid("amount", "is required and must not be zero");
        }
        if (amount is < -MaxAdjustment or > MaxAdjustment)
        {
            return BillingProblems.Invalid("amount", $"must be between -{MaxAdjustment} and {MaxAdjustment}");
        }
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            return BillingProblems.Invalid("reason", "is required");
        }

        var reason = $"{request.Reason.Trim()} (by {user.GetUserId()})";
        var result = amount > 0
            ? await ledger.GrantAsync(transferId, userId, amount, reason, cancellationToken: cancellationToken)
            : await ledger.CorrectAsync(transferId, userId, amount, reason, cancellationToken);

        return result.Outcome switch
        {
            TransferOutcome.Created or TransferOutcome.Exists => TypedResults.Ok(new AdjustmentResponse(result.TransferId, result.Balance, result.Held, result.Available)),
            TransferOutcome.Insufficient => BillingProblems.Insufficient(-amount, result.Available),
            _ => BillingProblems.Conflict($"Transfer {transferId} exists already with other terms."),
        };
    }
}

public sealed record AdjustmentRequest([property: Required] Guid? TransferId, [property: Required] Guid? UserId, [property: Required] long? Amount, [property: Required] string? Reason);

public sealed record AdjustmentResponse(Guid TransferId, long Balance, long Held, long Available);
