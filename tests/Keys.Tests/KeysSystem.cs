using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Keys.Tests;

// Identity, Keys and the edge, shared by the tests of a class; every test signs up its own users, so
// tests do not see each other's keys. The active-key limit is small so that reaching it is cheap.
public sealed class KeysSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public const int KeyLimit = 3;
    public const int SecretLimit = 5;

    // Known to the tests so that they can prove what the database holds is this key's ciphertext.
    public string VaultKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public GatewaySystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        System = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys],
            settings: new Dictionary<string, string?>
            {
                ["Keys:Vault:EncryptionKey"] = VaultKey,
                ["Keys:ApiKeys:MaxActivePerUser"] = KeyLimit.ToString(),
                ["Keys:Vault:MaxSecretsPerUser"] = SecretLimit.ToString(),
            });

    public ValueTask DisposeAsync() => System.DisposeAsync();

    public IServiceProvider Keys => System[GatewayService.Keys].Provider;

    public Task<TestUser> RegisterUserAsync() => System.RegisterUserAsync();

    // Straight to the Keys service, carrying a caller token as the edge would sign it.
    public HttpClient Direct(Caller? caller)
    {
        var client = System[GatewayService.Keys].CreateHttpClient();
        if (caller is not null)
        {
            client.DefaultRequestHeaders.Add(CallerAuthentication.HeaderName, Keys.GetRequiredService<CallerTokenIssuer>().Issue(caller));
        }
        return client;
    }

    public HttpClient AsEdge() => Direct(new Caller(Guid.Empty, null, null, null, CallerMethods.Service));

    public async Task<T> InDatabaseAsync<T>(Func<KeysDbContext, Task<T>> query)
    {
        await using var scope = Keys.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<KeysDbContext>());
    }

    public Task PublishAsync<T>(T message) where T : class => Keys.GetRequiredService<IBus>().Publish(message, Api.Ct);
}

public static class Api
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();

    public static async Task<JsonElement> CreateKeyAsync(this TestUser user, string name = "ci", DateTimeOffset? expiresAt = null)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/keys", new { name, expiresAt }, Ct);
        return await response.ShouldBe(HttpStatusCode.Created);
    }

    public static async Task<JsonElement[]> ListKeysAsync(this TestUser user)
    {
        using var response = await user.Client.GetAsync("/api/keys", Ct);
        return [.. (await response.ShouldBe(HttpStatusCode.OK)).EnumerateArray()];
    }

}
