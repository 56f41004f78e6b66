using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace ServiceDefaults.Tests;

public sealed class MessagingTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task An_event_published_by_identity_is_consumed_by_billing()
    {
        // Identity commits the account and a UserRegistered outbox row together; the outbox publishes it
        // to RabbitMQ and Billing's consumer grants the sign-up credits (1,000 by default).
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Billing]);
        var user = await system.RegisterUserAsync();
        var ct = TestContext.Current.CancellationToken;

        var waited = Stopwatch.StartNew();
        long balance = 0;
        while (waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            var body = await user.Client.GetFromJsonAsync<JsonElement>("/api/tokens/balance", ct);
            balance = body.GetProperty("balance").GetInt64();
            if (balance > 0) break;
            await Task.Delay(100, ct);
        }

        Assert.Equal(10_000, balance);
    }
}
