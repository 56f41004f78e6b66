using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing.Ledger;
using Microsoft.Extensions.DependencyInjection;
using static Identity.Tests.Api;

namespace Identity.Tests;

// Identity and Billing behind the edge: GET /api/user (seed 002) shows the caller's credits, read from Billing; without
// Chat, which runs assistants, the assistant's status is "unknown" (Chat.Tests' AssistantTests see it with Chat).
public sealed class IdentityAndBillingSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const long SignUpGrant = 500;

    public GatewaySystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        System = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Billing],
            settings: new Dictionary<string, string?> { ["Billing:Ledger:SignUpGrant"] = SignUpGrant.ToString() });

    public ValueTask DisposeAsync() => System.DisposeAsync();

    public CreditLedger Ledger => System[GatewayService.Billing].Provider.GetRequiredService<CreditLedger>();
}

public sealed class UserProfileTests(IdentityAndBillingSystem system) : IClassFixture<IdentityAndBillingSystem>
{
    private static async Task<JsonElement> ProfileAsync(TestUser user)
    {
        using var response = await user.Client.GetAsync("/api/user", Cancel);
        await response.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    private static long? Balance(JsonElement profile) =>
        profile.GetProperty("credits").ValueKind == JsonValueKind.Null ? null : profile.GetProperty("credits").GetProperty("balance").GetInt64();

    [Fact]
    public async Task The_profile_shows_the_callers_credits_and_without_chat_an_unknown_assistant_status()
    {
        var user = await system.System.RegisterUserAsync(name: "Grace");

        // The sign-up grant travels from Identity to Billing over the broker.
        var profile = await Eventually.UntilAsync(() => ProfileAsync(user), p => Balance(p) == IdentityAndBillingSystem.SignUpGrant);

        Assert.Equal(IdentityAndBillingSystem.SignUpGrant, Balance(profile));
        var credits = profile.GetProperty("credits");
        Assert.Equal(0, credits.GetProperty("held").GetInt64());
        Assert.Equal(IdentityAndBillingSystem.SignUpGrant, credits.GetProperty("available").GetInt64());
        Assert.Equal("Grace", profile.GetProperty("name").GetString());
        Assert.Equal(user.Email, profile.GetProperty("email").GetString());
        Assert.Equal("unknown", profile.GetProperty("assistant").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Each_caller_sees_their_own_credits()
    {
        var alice = await system.System.RegisterUserAsync();
        var bob = await system.System.RegisterUserAsync();
        await Eventually.UntilAsync(() => ProfileAsync(alice), p => Balance(p) == IdentityAndBillingSystem.SignUpGrant);
        await system.Ledger.GrantAsync(Guid.NewGuid(), alice.UserId, 75, "Test credits", cancellationToken: Cancel);

        var alices = await ProfileAsync(alice);
        var bobs = await Eventually.UntilAsync(() => ProfileAsync(bob), p => Balance(p) == IdentityAndBillingSystem.SignUpGrant);

        Assert.Equal(IdentityAndBillingSystem.SignUpGrant + 75, Balance(alices));
        Assert.Equal(IdentityAndBillingSystem.SignUpGrant, Balance(bobs));
    }

    [Fact]
    public async Task The_updated_profile_carries_the_credits_too()
    {
        var user = await system.System.RegisterUserAsync();
        await Eventually.UntilAsync(() => ProfileAsync(user), p => Balance(p) == IdentityAndBillingSystem.SignUpGrant);

        using var patch = await user.Client.PatchAsJsonAsync("/api/user", new { assistant = new { name = "Jarvis" } }, Cancel);

        await patch.ShouldBe(HttpStatusCode.OK);
        var profile = await patch.JsonAsync();
        Assert.Equal(IdentityAndBillingSystem.SignUpGrant, Balance(profile));
        Assert.Equal("Jarvis", profile.GetProperty("assistant").GetProperty("name").GetString());
        Assert.Equal("unknown", profile.GetProperty("assistant").GetProperty("status").GetString());
    }
}
