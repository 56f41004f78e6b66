using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing.Ledger;

namespace Billing.Tests;

// What a signed-up user sees through the edge: balance, history and usage.
public sealed class BalanceApiTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private static CancellationToken Cancel => BillingSystem.Cancel;

    private async Task<TestUser> SignedUpUserAsync()
    {
        var user = await billing.System.RegisterUserAsync();
        await Eventually.UntilAsync(() => billing.BalanceAsync(user.UserId), b => b.Balance > 0);
        return user;
    }

    [Fact]
    public async Task A_user_who_signs_up_through_the_edge_sees_the_sign_up_grant()
    {
        var user = await billing.System.RegisterUserAsync();

        var balance = await Eventually.UntilAsync(
            () => user.Client.GetJsonAsync("/api/tokens/balance"), b => b.GetProperty("balance").GetInt64() > 0);

        Assert.Equal(BillingSystem.SignUpGrant, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("held").GetInt64());
        Assert.Equal(BillingSystem.SignUpGrant, balance.GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Balance_shows_what_is_held_for_a_reservation()
    {
        var user = await SignedUpUserAsync();
        await billing.ReserveAsync(user.UserId, 40);

        var balance = await user.Client.GetJsonAsync("/api/tokens/balance");

        Assert.Equal((BillingSystem.SignUpGrant, 40L, BillingSystem.SignUpGrant - 40),
            (balance.GetProperty("balance").GetInt64(), balance.GetProperty("held").GetInt64(), balance.GetProperty("available").GetInt64()));
    }

    [Theory]
    [InlineData("/api/tokens/history")]
    [InlineData("/api/credits/history")]
    public async Task History_is_newest_first_with_reasons_and_pages_with_a_cursor(string path)
    {
        var user = await SignedUpUserAsync();
        await billing.Ledger.PurchaseAsync(Guid.NewGuid(), user.UserId, 1000, "Purchase: 1000 credits", Cancel);
        var holdId = Guid.NewGuid();
        await billing.Ledger.ReserveAsync(holdId, user.UserId, 50, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        await billing.Ledger.CaptureAsync(Guid.NewGuid(), holdId, 30, "Usage: gpt-test", new Usage("gpt-test", 10, 20), Cancel);
        await billing.Ledger.RefundAsync(Guid.NewGuid(), user.UserId, 30, "Refund: answer was cut off", Cancel);

        var first = await user.Client.GetJsonAsync($"{path}?limit=3");
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await user.Client.GetJsonAsync($"{path}?limit=3&cursor={cursor}");

        var entries = first.GetProperty("data").EnumerateArray().Concat(second.GetProperty("data").EnumerateArray())
            .Select(e => (e.GetProperty("type").GetString(), e.GetProperty("amount").GetInt64(), e.GetProperty("reason").GetString()))
            .ToList();
        Assert.Equal(
            [("refund", 30L, "Refund: answer was cut off"), ("usage", -30L, "Usage: gpt-test"), ("purchase", 1000L, "Purchase: 1000 credits"), ("grant", BillingSystem.SignUpGrant, "Sign-up bonus")],
            entries);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
        // The cursor names an entry of the caller's own, not a position every wallet shares (which told a caller how many
        // transfers the whole platform made between two pages); another caller's is not one this API returned to them.
        Assert.Equal(first.GetProperty("data")[2].GetProperty("id").GetString(), cursor);
        var other = await SignedUpUserAsync();
        using var foreign = await other.Client.GetAsync($"{path}?cursor={cursor}", Cancel);
        await foreign.ShouldBeProblemAbout(System.Net.HttpStatusCode.BadRequest, "cursor");
    }

    [Fact]
    public async Task Usage_is_a_day_by_day_series_of_credits_requests_and_tokens()
    {
        var user = await SignedUpUserAsync();
        foreach (var (credits, input, output) in new[] { (12L, 5L, 7L), (8L, 3L, 5L) })
        {
            var holdId = Guid.NewGuid();
            await billing.Ledger.ReserveAsync(holdId, user.UserId, 20, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
            await billing.Ledger.CaptureAsync(Guid.NewGuid(), holdId, credits, "Usage: gpt-test", new Usage("gpt-test", input, output), Cancel);
        }

        var usage = await user.Client.GetJsonAsync("/api/usage?days=7");

        var series = usage.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(7, series.Count);
        var today = series[^1];
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd"), today.GetProperty("date").GetString());
        Assert.Equal((20L, 2, 8L, 12L), (today.GetProperty("credits").GetInt64(), today.GetProperty("requests").GetInt32(),
            today.GetProperty("inputTokens").GetInt64(), today.GetProperty("outputTokens").GetInt64()));
        Assert.All(series[..^1], day => Assert.Equal(0, day.GetProperty("requests").GetInt32()));
    }

    [Theory]
    [InlineData("/api/usage?days=0", "days")]
    [InlineData("/api/usage?days=365", "days")]
    [InlineData("/api/usage?days=week", "'days' must be a whole number from 1 to 90")]
    [InlineData("/api/tokens/history?limit=1000", "limit")]
    [InlineData("/api/credits/history?cursor=yesterday", "cursor")]
    public async Task A_bad_query_value_is_a_400_problem_naming_the_field(string url, string field)
    {
        var user = await SignedUpUserAsync();

        using var response = await user.Client.GetAsync(url, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.ProblemDetailAsync());
    }

    [Fact]
    public async Task Without_signing_in_the_wallet_is_401_and_a_forged_user_header_does_not_help()
    {
        using var anonymous = billing.System.CreateEdgeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tokens/balance");
        request.Headers.Add("X-User-Id", Guid.NewGuid().ToString());
        using var direct = billing.System[GatewayService.Billing].CreateHttpClient();
        direct.DefaultRequestHeaders.Add("X-Gateway-Caller", "forged");

        using var throughEdge = await anonymous.SendAsync(request, Cancel);
        using var bypassingEdge = await direct.GetAsync("/api/tokens/balance", Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, throughEdge.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, bypassingEdge.StatusCode);
    }

    [Fact]
    public async Task An_administrator_adjusts_a_wallet_with_a_reason_and_a_repeat_changes_nothing()
    {
        var user = await SignedUpUserAsync();
        using var admin = billing.DirectClientFor(BillingSystem.Administrator);
        var transferId = Guid.NewGuid();

        using var grant = await admin.PostAsJsonAsync("/api/billing/admin/ledger/adjustments", new { transferId, userId = user.UserId, amount = 100, reason = "Goodwill" }, Cancel);
        using var repeat = await admin.PostAsJsonAsync("/api/billing/admin/ledger/adjustments", new { transferId, userId = user.UserId, amount = 100, reason = "Goodwill" }, Cancel);
        using var changed = await admin.PostAsJsonAsync("/api/billing/admin/ledger/adjustments", new { transferId, userId = user.UserId, amount = 500, reason = "Goodwill" }, Cancel);
        using var overdraw = await admin.PostAsJsonAsync("/api/billing/admin/ledger/adjustments", new { transferId = Guid.NewGuid(), userId = user.UserId, amount = -1000, reason = "Take back" }, Cancel);
        using var noReason = await admin.PostAsJsonAsync("/api/billing/admin/ledger/adjustments", new { transferId = Guid.NewGuid(), userId = user.UserId, amount = 5 }, Cancel);

        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, overdraw.StatusCode);
        Assert.Equal($"Required: 1000, Available: {BillingSystem.SignUpGrant + 100}", await overdraw.ProblemDetailAsync());
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("reason", await noReason.ProblemDetailAsync());
        var history = await user.Client.GetJsonAsync("/api/credits/history");
        Assert.Equal($"Goodwill (by {BillingSystem.Administrator})", history.GetProperty("data")[0].GetProperty("reason").GetString());
        Assert.Equal(BillingSystem.SignUpGrant + 100, (await billing.BalanceAsync(user.UserId)).Balance);
    }

    // -long.MinValue overflowed on the way to the ledger (a 500); long.MaxValue would overflow the balance.
    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(-1_000_000_001)]
    public async Task An_adjustment_beyond_a_billion_credits_either_way_is_a_400_naming_the_amount(long amount)
    {
        var user = await SignedUpUserAsync();
        using var admin = billing.DirectClientFor(BillingSystem.Administrator);

        using var response = await admin.PostAsJsonAsync("/api/admin/ledger/adjustments",
            new { transferId = Guid.NewGuid(), userId = user.UserId, amount, reason = "Fat finger" }, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The field 'amount' must be between -1000000000 and 1000000000.", await response.ProblemDetailAsync());
        Assert.Equal(BillingSystem.SignUpGrant, (await billing.BalanceAsync(user.UserId)).Balance);
    }

    [Fact]
    public async Task Only_an_administrator_reads_the_ledger_audit()
    {
        var user = await SignedUpUserAsync();
        using var admin = billing.DirectClientFor(BillingSystem.Administrator);

        using var refused = await user.Client.GetAsync("/api/billing/admin/ledger/audit", Cancel);
        using var refusedAtIssuePath = await user.Client.GetAsync("/api/admin/ledger/audit", Cancel);
        var audit = await admin.GetJsonAsync("/api/admin/ledger/audit");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refusedAtIssuePath.StatusCode);
        // Not a role an organisation's owner could have: the refusal says which list it is.
        Assert.Contains("Only platform administrators", (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString());
        Assert.True(audit.GetProperty("balanced").GetBoolean());
        Assert.Equal(audit.GetProperty("totalDebits").GetInt64(), audit.GetProperty("totalCredits").GetInt64());
    }
}
