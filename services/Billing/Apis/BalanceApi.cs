using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Gateway.Billing.Infrastructure;
using Gateway.Billing.Ledger;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Billing.Apis;

// What a user sees of their wallet: the balance, its history and a day-by-day usage series.
public static class BalanceApi
{
    private const int MaxDays = 90;

    public static IEndpointRouteBuilder MapBalanceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Credits").RequireAuthorization();

        api.MapGet("/tokens/balance", GetBalance).WithSummary("Your credit balance: what you have, what is held, what is available.");
        api.MapGet("/tokens/history", GetHistory).WithSummary("Your credit history, newest first, a page at a time.");
        api.MapGet("/credits/history", GetHistory).WithSummary("Your credit history, newest first, a page at a time (the same as /api/tokens/history).");
        api.MapGet("/usage", GetUsage).WithSummary("Your usage day by day over the last ?days= (7 by default).");
        return app;
    }

    public static async Task<Ok<BalanceResponse>> GetBalance(ClaimsPrincipal user, Ledger.CreditLedger ledger, CancellationToken cancellationToken)
    {
        var wallet = await ledger.BalanceAsync(user.GetUserId(), cancellationToken);
        return TypedResults.Ok(new BalanceResponse(wallet.Balance, wallet.Held, wallet.Available));
    }

    // Newest first. The cursor is the last entry's id, and a page starts after its position: entries that arrive later never
    // shift a page. Not the position itself, a number every wallet's transfers share, which told a caller how many the
    // whole platform made between two pages (the organisation trial).
    public static async Task<Results<Ok<HistoryPage>, ProblemHttpResult>> GetHistory(
        ClaimsPrincipal user, BillingDbContext db, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        if (PageRequest.Check(limit, offset: null, out var request) is { } problem)
        {
            return problem;
        }
        var size = request.Limit;
        var userId = user.GetUserId();
        long? before = null;
        if (cursor is not null)
        {
            before = Guid.TryParse(cursor, out var last)
                ? await db.Transfers.Where(t => t.Id == last && t.WalletId == userId).Select(t => (long?)t.Sequence).SingleOrDefaultAsync(cancellationToken)
                : null;
            if (before is null)
            {
                return BillingProblems.Invalid("cursor", "is not a cursor this API returned");
            }
        }

        var entries = await db.Transfers.AsNoTracking()
            .Where(t => t.WalletId == userId && TransferKinds.Posted.Contains(t.Kind))
            // A further hold of a request captured at nothing (a hold it did not need: captured at 0 is how it is
            // released) is bookkeeping, not a charge: the request's own entry, with its model and tokens, is there.
            .Where(t => !(t.Kind == TransferKind.Capture && t.Amount == 0 && t.Model == null))
            .Where(t => before == null || t.Sequence < before)
            .OrderByDescending(t => t.Sequence)
            .Take(size + 1)
            .ToListAsync(cancellationToken);

        var page = entries.Take(size).Select(t => new HistoryEntry(
            t.Id,
            t.Kind == TransferKind.Capture ? "usage" : t.Kind.Name(),
            t.CreditAccountId == userId ? t.Amount : -t.Amount,
            t.Reason,
            t.CreatedAt,
            t.Model,
            t.InputTokens,
            t.OutputTokens)).ToList();
        var next = entries.Count > size ? entries[size - 1].Id.ToString() : null;
        return TypedResults.Ok(new HistoryPage(page, next));
    }

    public static async Task<Results<Ok<UsageSeries>, ProblemHttpResult>> GetUsage(
        ClaimsPrincipal user, BillingDbContext db, TimeProvider clock, [Range(1, MaxDays)] int? days, CancellationToken cancellationToken)
    {
        var count = days ?? 7;
        if (count is < 1 or > MaxDays)
        {
            return BillingProblems.Invalid("days", $"must be between 1 and {MaxDays}");
        }

        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = today.AddDays(1 - count);
        var from = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var userId = user.GetUserId();

        // A request is the capture that carries its model and tokens; the further holds it grew through (a long answer
        // on a low balance, a tool loop's rounds) are captured too, each with its share, and add credits, not requests.
        var rows = await db.Database.SqlQuery<UsageRow>($"""
            SELECT (created_at AT TIME ZONE 'UTC')::date AS "Day", sum(amount)::bigint AS "Credits",
                   count(*) FILTER (WHERE model IS NOT NULL)::int AS "Requests",
                   COALESCE(sum(input_tokens), 0)::bigint AS "InputTokens", COALESCE(sum(output_tokens), 0)::bigint AS "OutputTokens"
            FROM transfers
            WHERE wallet_id = {userId} AND kind = 'capture' AND created_at >= {from}
            GROUP BY 1
            """).ToDictionaryAsync(r => r.Day, cancellationToken);

        var series = Enumerable.Range(0, count)
            .Select(i => first.AddDays(i))
            .Select(day => rows.TryGetValue(day, out var r)
                ? new UsageDay(day, r.Credits, r.Requests, r.InputTokens, r.OutputTokens)
                : new UsageDay(day, 0, 0, 0, 0))
            .ToList();
        return TypedResults.Ok(new UsageSeries(count, series));
    }

    private sealed record UsageRow(DateOnly Day, long Credits, int Requests, long InputTokens, long OutputTokens);
}

public sealed record BalanceResponse(long Balance, long Held, long Available);

// Amount is signed from the user's side: credits in are positive, usage and take-backs negative.
public sealed record HistoryEntry(Guid Id, string Type, long Amount, string Reason, DateTimeOffset CreatedAt, string? Model, long? InputTokens, long? OutputTokens);

// The one list that pages by cursor rather than offset (see Page<T>): entries arrive while a client pages.
public sealed record HistoryPage(IReadOnlyList<HistoryEntry> Data, string? NextCursor);

public sealed record UsageDay(DateOnly Date, long Credits, int Requests, long InputTokens, long OutputTokens);

public sealed record UsageSeries(int Days, IReadOnlyList<UsageDay> Series);
