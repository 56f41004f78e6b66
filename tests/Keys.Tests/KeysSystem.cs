using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults;
using Gateway.Testing;
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

    public static async Task<JsonElement> ShouldBe(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    // A 4xx problem that names the field at fault; returns the reason given for it.
    public static async Task<string> ShouldBeProblemAbout(this HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var problem = await response.ShouldBe(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var reasons = problem.GetProperty("errors").GetProperty(field);
        var reason = reasons[0].GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(reason));
        return reason;
    }

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

    // Polls until the condition holds, at most the given time; events travel through the outbox and the broker.
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
            await Task.Delay(50, Ct);
        }
    }
}
