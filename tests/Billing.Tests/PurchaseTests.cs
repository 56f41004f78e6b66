using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Billing.Tests;

// Buying credits through Stripe Checkout, with a local stand-in for Stripe that signs its webhooks.
public sealed class PurchaseTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private const string Webhook = "/api/billing/stripe/webhook";
    private static CancellationToken Cancel => BillingSystem.Cancel;

    private async Task<(TestUser User, CheckoutSession Session)> CheckoutAsync(decimal amountUsd = 10)
    {
        var user = await billing.System.RegisterUserAsync();
        await Eventually.UntilAsync(() => billing.BalanceAsync(user.UserId), b => b.Balance > 0);
        using var response = await user.Client.PostAsJsonAsync("/api/credits/purchase", new { amountUsd }, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = (await response.JsonAsync()).GetProperty("checkoutUrl").GetString()!;
        var session = billing.Stripe.Sessions.Values.Single(s => url.EndsWith(s.Id, StringComparison.Ordinal));
        return (user, session);
    }

    private async Task<HttpStatusCode> DeliverAsync(string payload, string? signature)
    {
        using var stripe = billing.System.CreateEdgeClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Webhook) { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }
        using var response = await stripe.SendAsync(request, Cancel);
        return response.StatusCode;
    }

    [Fact]
    public async Task Purchase_answers_the_checkout_url_of_a_session_made_for_the_user()
    {
        var (user, session) = await CheckoutAsync(12.5m);

        Assert.Equal(1250, session.AmountCents);
        Assert.Equal(user.UserId.ToString(), session.UserId);
        Assert.Equal("1250", session.Credits);
        Assert.Contains($"Bearer {FakeStripe.SecretKey}", billing.Stripe.Authorizations);
    }

    [Fact]
    public async Task A_paid_checkout_grants_its_credits_once_however_often_stripe_retries()
    {
        var (user, session) = await CheckoutAsync(10);
        var payload = FakeStripe.Event(session);
        var signature = FakeStripe.Sign(payload);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => DeliverAsync(payload, signature)));
        var resent = FakeStripe.Event(session);
        var later = await DeliverAsync(resent, FakeStripe.Sign(resent));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.OK, later);
        var balance = await user.Client.GetJsonAsync("/api/tokens/balance");
        Assert.Equal(BillingSystem.SignUpGrant + 1000, balance.GetProperty("balance").GetInt64());
        var history = await user.Client.GetJsonAsync("/api/credits/history");
        Assert.Equal("purchase", history.GetProperty("data")[0].GetProperty("type").GetString());
        Assert.Equal(1000, history.GetProperty("data")[0].GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task Reordered_webhooks_credit_once_and_only_when_paid()
    {
        var (user, session) = await CheckoutAsync(5);
        var succeeded = FakeStripe.Event(session, "checkout.session.async_payment_succeeded");
        var completedUnpaid = FakeStripe.Event(session, "checkout.session.completed", paymentStatus: "unpaid");
        var completedPaid = FakeStripe.Event(session, "checkout.session.completed");

        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(completedUnpaid, FakeStripe.Sign(completedUnpaid)));
        var beforePayment = await billing.BalanceAsync(user.UserId);
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(succeeded, FakeStripe.Sign(succeeded)));
        Assert.Equal(HttpStatusCode.OK, await DeliverAsync(completedPaid, FakeStripe.Sign(completedPaid)));

        Assert.Equal(BillingSystem.SignUpGrant, beforePayment.Balance);
        Assert.Equal(BillingSystem.SignUpGrant + 500, (await billing.BalanceAsync(user.UserId)).Balance);
    }

    [Fact]
    public async Task A_forged_or_stale_webhook_is_refused_and_credits_nothing()
    {
        var (user, session) = await CheckoutAsync(10);
        var payload = FakeStripe.Event(session);
        var tampered = payload.Replace("\"credits\":\"1000\"", "\"credits\":\"99999\"");
        Assert.NotEqual(payload, tampered);

        var wrongSecret = await DeliverAsync(payload, FakeStripe.Sign(payload, "whsec_attacker"));
        var unsigned = await DeliverAsync(payload, null);
        var altered = await DeliverAsync(tampered, FakeStripe.Sign(payload));
        var stale = await DeliverAsync(payload, FakeStripe.Sign(payload, at: DateTimeOffset.UtcNow.AddHours(-1)));

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], new[] { wrongSecret, unsigned, altered, stale });
        Assert.Equal(BillingSystem.SignUpGrant, (await billing.BalanceAsync(user.UserId)).Balance);
    }

    [Fact]
    public async Task An_oversized_webhook_is_refused_without_crediting()
    {
        var (user, session) = await CheckoutAsync(10);
        var payload = FakeStripe.Event(session).Replace("\"livemode\":false", $"\"livemode\":false,\"padding\":\"{new string('x', 400_000)}\"");

        var status = await DeliverAsync(payload, FakeStripe.Sign(payload));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(BillingSystem.SignUpGrant, (await billing.BalanceAsync(user.UserId)).Balance);
    }

    [Theory]
    [InlineData("{}", "amountUsd")]
    [InlineData("""{"amountUsd":0}""", "amountUsd")]
    [InlineData("""{"amountUsd":1000000}""", "amountUsd")]
    [InlineData("""{"amountUsd":1.234}""", "amountUsd")]
    [InlineData("""{"amountUsd":"ten"}""", "amountUsd' must be a number of at most 28 digits (such as 10 or 9.99)")]
    [InlineData("""{"amountUsd":1e308}""", "amountUsd' must be a number of at most 28 digits (such as 10 or 9.99)")]
    public async Task A_bad_purchase_amount_is_a_400_problem_naming_amountUsd(string body, string field)
    {
        var user = await billing.System.RegisterUserAsync();

        using var response = await user.Client.PostAsync("/api/credits/purchase", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.ProblemDetailAsync());
    }
}

// A server without Stripe keys still runs; buying and the billing portal say why they cannot, and what enables them.
public sealed class UnconfiguredPurchaseTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task Without_stripe_configured_a_purchase_and_the_billing_portal_are_503_problems_naming_the_settings()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Billing]);
        var user = await system.RegisterUserAsync();

        using var purchase = await user.Client.PostAsJsonAsync("/api/credits/purchase", new { amountUsd = 10 }, BillingSystem.Cancel);
        using var portal = await user.Client.GetAsync("/api/organization/billing", BillingSystem.Cancel);

        foreach (var response in new[] { purchase, portal })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var detail = await response.ProblemDetailAsync();
            Assert.Contains("not configured", detail);
            Assert.Contains("Billing:Stripe:SecretKey", detail);
            Assert.Contains("Billing__Stripe__WebhookSecret", detail);
        }
    }
}
