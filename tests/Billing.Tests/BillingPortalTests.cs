using System.Net;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Tests;

// GET /api/organization/billing (seed 001): Stripe's billing portal for the organisation, through the edge, against
// the local stand-in for Stripe.
public sealed class BillingPortalTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private const string Portal = "/api/organization/billing";
    private static CancellationToken Cancel => BillingSystem.Cancel;

    private async Task<PortalSession> OpenAsync(TestUser user)
    {
        using var response = await user.Client.GetAsync(Portal, Cancel);
        var body = await response.ShouldBe(HttpStatusCode.OK);
        var url = body.GetProperty("url").GetString()!;
        return billing.Stripe.PortalSessions.Values.Single(s => s.Url == url);
    }

    [Fact]
    public async Task An_owner_gets_a_portal_session_for_a_customer_made_for_the_organisation()
    {
        var owner = await billing.System.RegisterUserAsync();

        var session = await OpenAsync(owner);

        var customer = billing.Stripe.Customers[session.CustomerId];
        Assert.Equal(owner.OrganizationId.ToString(), customer.OrganizationId);
        Assert.Equal(owner.Email, customer.Email);
        Assert.Equal("http://localhost:8080/settings/billing", session.ReturnUrl);
        Assert.Contains($"Bearer {FakeStripe.SecretKey}", billing.Stripe.Authorizations);
    }

    [Fact]
    public async Task Every_later_session_of_the_organisation_is_for_the_same_customer_whoever_asks()
    {
        var owner = await billing.System.RegisterUserAsync();
        var admin = await billing.System.InviteAsync(owner, "admin");

        var first = await OpenAsync(owner);
        var again = await OpenAsync(owner);
        var byAdmin = await OpenAsync(admin);

        Assert.NotEqual(first.Id, again.Id);
        Assert.Equal(first.CustomerId, again.CustomerId);
        Assert.Equal(first.CustomerId, byAdmin.CustomerId);
        Assert.Single(billing.Stripe.Customers.Values, c => c.OrganizationId == owner.OrganizationId.ToString());
    }

    [Fact]
    public async Task Concurrent_first_requests_make_one_customer()
    {
        var owner = await billing.System.RegisterUserAsync();
        var admin = await billing.System.InviteAsync(owner, "admin");

        var sessions = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => OpenAsync(i % 2 == 0 ? owner : admin)));

        Assert.Single(sessions.Select(s => s.CustomerId).Distinct());
        Assert.Single(billing.Stripe.Customers.Values, c => c.OrganizationId == owner.OrganizationId.ToString());
    }

    [Fact]
    public async Task Each_organisation_has_its_own_customer()
    {
        var alice = await billing.System.RegisterUserAsync();
        var bob = await billing.System.RegisterUserAsync();

        var alices = await OpenAsync(alice);
        var bobs = await OpenAsync(bob);

        Assert.NotEqual(alices.CustomerId, bobs.CustomerId);
        Assert.Equal(bob.OrganizationId.ToString(), billing.Stripe.Customers[bobs.CustomerId].OrganizationId);
    }

    [Fact]
    public async Task A_member_is_refused_in_words_and_no_customer_is_made()
    {
        var owner = await billing.System.RegisterUserAsync();
        var member = await billing.System.InviteAsync(owner, "member");

        using var response = await member.Client.GetAsync(Portal, Cancel);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("owners and admins", await response.ProblemDetailAsync());
        Assert.DoesNotContain(billing.Stripe.Customers.Values, c => c.OrganizationId == owner.OrganizationId.ToString());
    }

    [Fact]
    public async Task An_api_key_is_refused_even_with_an_owners_role()
    {
        var owner = await billing.System.RegisterUserAsync();
        using var client = billing.System[GatewayService.Billing].CreateHttpClient();
        client.DefaultRequestHeaders.Add(CallerAuthentication.HeaderName, billing.Billing.GetRequiredService<CallerTokenIssuer>()
            .Issue(new Caller(owner.UserId, owner.OrganizationId, "owner", owner.Email, CallerMethods.ApiKey, ApiKeyId: Guid.NewGuid())));

        using var response = await client.GetAsync(Portal, Cancel);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("API keys cannot do this", await response.ProblemDetailAsync());
    }

    [Fact]
    public async Task Without_a_caller_the_portal_is_a_401()
    {
        using var anonymous = billing.System.CreateEdgeClient();

        using var response = await anonymous.GetAsync(Portal, Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task When_stripe_refuses_the_session_the_answer_is_a_502_problem_and_the_customer_is_kept()
    {
        var owner = await billing.System.RegisterUserAsync();
        var first = await OpenAsync(owner);
        billing.Stripe.RefusePortalSessions = true;
        try
        {
            using var refused = await owner.Client.GetAsync(Portal, Cancel);

            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            Assert.Contains("could not open the billing portal", await refused.ProblemDetailAsync());
        }
        finally
        {
            billing.Stripe.RefusePortalSessions = false;
        }
        Assert.Equal(first.CustomerId, (await OpenAsync(owner)).CustomerId);
    }
}
