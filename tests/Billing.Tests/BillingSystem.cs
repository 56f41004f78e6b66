using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing.Ledger;
using Gateway.Contracts;
using Gateway.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Tests;

// Identity, Billing and the edge on this class's own databases and vhost, with a fake Stripe beside
// them. When the class is done, the ledger's audit must hold.
public sealed class BillingSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const long SignUpGrant = 250;
    public static readonly TimeSpan HolderLease = TimeSpan.FromSeconds(2);
    public static readonly Guid Administrator = Guid.NewGuid();

    public GatewaySystem System { get; private set; } = null!;
    public FakeStripe Stripe { get; } = new();

    public IServiceProvider Billing => System[GatewayService.Billing].Provider;
    public CreditLedger Ledger => Billing.GetRequiredService<CreditLedger>();
    public IBus Bus => Billing.GetRequiredService<IBus>();

    public async ValueTask InitializeAsync()
    {
        await Stripe.StartAsync();
        System = await GatewaySystem.StartAsync(
            infrastructure,
            [GatewayService.Identity, GatewayService.Billing],
            settings: new Dictionary<string, string?>
            {
                ["Billing:Ledger:SignUpGrant"] = SignUpGrant.ToString(),
                ["Billing:Ledger:SweepInterval"] = "00:00:00.200",
                ["Billing:Ledger:HolderLease"] = HolderLease.ToString(),
                ["Billing:Ledger:Administrators:0"] = Administrator.ToString(),
                ["Billing:Stripe:SecretKey"] = FakeStripe.SecretKey,
                ["Billing:Stripe:WebhookSecret"] = FakeStripe.WebhookSecret,
                ["Billing:Stripe:ApiBase"] = Stripe.Address,
                ["Billing:Stripe:CreditsPerUsd"] = "100",
            });
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var report = await Billing.GetRequiredService<LedgerAudit>().RunAsync();
            Assert.True(report.Balanced, $"The ledger's audit failed after the class: {JsonSerializer.Serialize(report)}");
        }
        finally
        {
            await System.DisposeAsync();
            await Stripe.DisposeAsync();
        }
    }

    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    // A wallet (a user Billing has never heard of before) holding the given credits.
    public async Task<Guid> NewWalletAsync(long credits)
    {
        var userId = Guid.NewGuid();
        var result = await Ledger.GrantAsync(Guid.NewGuid(), userId, credits, "Test credits", cancellationToken: Cancel);
        Assert.Equal(TransferOutcome.Created, result.Outcome);
        return userId;
    }

    public async Task<Response<CreditsReserved, CreditsInsufficient>> ReserveAsync(
        Guid userId, long amount, Guid? reservationId = null, TimeSpan? holdFor = null, Guid? holder = null, TimeSpan? timeout = null)
    {
        var client = Bus.CreateRequestClient<ReserveCredits>(RequestTimeout.After(ms: (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds));
        return await client.GetResponse<CreditsReserved, CreditsInsufficient>(
            new ReserveCredits(reservationId ?? Guid.NewGuid(), userId, amount, "Chat request", holdFor ?? TimeSpan.FromMinutes(5), holder), Cancel);
    }

    public Task<WalletBalance> BalanceAsync(Guid userId) => Ledger.BalanceAsync(userId, Cancel);

    // A client that talks to Billing directly, as the edge would for this caller.
    public HttpClient DirectClientFor(Guid userId)
    {
        var client = System[GatewayService.Billing].CreateHttpClient();
        var token = Billing.GetRequiredService<CallerTokenIssuer>().Issue(new Caller(userId, null, null, null, CallerMethods.User));
        client.DefaultRequestHeaders.Add(CallerAuthentication.HeaderName, token);
        return client;
    }
}

public static class Http
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(BillingSystem.Cancel);

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, BillingSystem.Cancel);
        var body = await response.Content.ReadAsStringAsync(BillingSystem.Cancel);
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static async Task<string> ProblemDetailAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.JsonAsync()).GetProperty("detail").GetString()!;
    }

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
