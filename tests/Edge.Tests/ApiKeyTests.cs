using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Edge.Tests;

public sealed class ApiKeyTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys]);

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_key_works_in_either_header_until_revoked_then_every_edge_refuses_it_within_a_second()
    {
        var user = await _system.RegisterUserAsync();
        var (keyId, key) = await CreateKeyAsync(user);
        using var edgeA = ClientWithKey(_system.Edge, "x-api-key", key);
        var secondEdge = await _system.StartEdgeAsync();
        using var edgeB = ClientWithKey(secondEdge, "Authorization", $"Bearer {key}");
        // Its bus binds the queue revocations arrive on after the host has started: revoke only once it listens (readiness
        // includes the bus). On a loaded machine the revocation was otherwise published before edge B could hear it.
        using var probe = secondEdge.CreateHttpClient();
        await Eventually.UntilAsync(async () => (await probe.GetAsync("/health/readiness", Ct)).StatusCode, status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        // Both replicas have the key cached before it is revoked.
        foreach (var client in new[] { edgeA, edgeB })
        {
            var me = await client.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct);
            Assert.Equal(user.UserId, me.GetProperty("id").GetGuid());
        }

        using var revoke = await user.Client.DeleteAsync($"/api/keys/{keyId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        var revokedAt = Stopwatch.StartNew();

        var refusedA = await WaitForRefusalAsync(edgeA);
        var refusedB = await WaitForRefusalAsync(edgeB);
        TestContext.Current.SendDiagnosticMessage($"Revoked key refused after {refusedA.TotalMilliseconds:0} ms (edge A), {refusedB.TotalMilliseconds:0} ms (edge B)");
        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(1.5), $"Refused only after {revokedAt.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task An_API_key_says_whose_it_is_but_cannot_manage_the_organisation_or_the_profile()
    {
        var user = await _system.RegisterUserAsync();
        var (_, key) = await CreateKeyAsync(user);
        using var client = ClientWithKey(_system.Edge, "x-api-key", key);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/user", Ct)).StatusCode);
        var refused = new[]
        {
            await client.PostAsJsonAsync("/api/users/invite", new { email = $"finder-{Guid.NewGuid():N}@example.com", role = "owner" }, Ct),
            await client.GetAsync("/api/users", Ct),
            await client.PostAsJsonAsync($"/api/users/{user.UserId}/role", new { role = "member" }, Ct),
            await client.PatchAsJsonAsync("/api/organization/profile", new { name = "Taken over" }, Ct),
            await client.PatchAsJsonAsync("/api/user", new { name = "Taken over" }, Ct),
        };
        foreach (var response in refused)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {(int)response.StatusCode}");
            Assert.Contains("API keys cannot do this", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task When_keys_cannot_be_checked_an_unknown_key_is_refused_with_503_not_let_through()
    {
        var user = await _system.RegisterUserAsync();
        await _system[GatewayService.Keys].DisposeAsync();

        // Keys' own routes, for a signed-in user: a problem that says the service is unreachable, not a bare 502.
        using var list = await user.Client.GetAsync("/api/keys", Ct);
        Assert.Equal(HttpStatusCode.BadGateway, list.StatusCode);
        var unreachable = await list.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The service behind /api/keys could not be reached or broke off before answering. Try again shortly.",
            unreachable.GetProperty("detail").GetString());

        using var client = ClientWithKey(_system.Edge, "x-api-key", "sk_live_" + new string('C', 43));

        using var response = await client.GetAsync("/api/auth/me", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("cannot be checked", problem.GetProperty("detail").GetString());

        // The OpenAI-compatible API answers the same refusal in OpenAI's error shape.
        using var openAi = await client.GetAsync("/v1/models", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, openAi.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), openAi.Headers.RetryAfter?.Delta);
        var error = (await openAi.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error");
        Assert.Contains("cannot be checked", error.GetProperty("message").GetString());
        Assert.Equal("service_unavailable", error.GetProperty("type").GetString());
    }

    // Which of two callers would pay is nobody's guess: a key with another caller's credential is refused, the same key in
    // both headers is one credential.
    [Fact]
    public async Task A_key_sent_with_another_callers_credential_is_refused_and_with_itself_is_accepted()
    {
        var alice = await _system.RegisterUserAsync();
        var bob = await _system.RegisterUserAsync();
        var (_, aliceKey) = await CreateKeyAsync(alice);
        var (_, bobKey) = await CreateKeyAsync(bob);

        foreach (var other in new[] { $"Bearer {bobKey}", $"Bearer {alice.AccessToken}" })
        {
            using var client = ClientWithKey(_system.Edge, "x-api-key", aliceKey);
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", other);
            using var refused = await client.GetAsync("/api/auth/me", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Two credentials were sent, an API key in 'x-api-key' and another in 'Authorization'; send one.",
                (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        }

        using var twice = ClientWithKey(_system.Edge, "x-api-key", aliceKey);
        twice.DefaultRequestHeaders.Add("x-api-key", bobKey);
        using var doubled = await twice.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, doubled.StatusCode);
        Assert.Equal("The API key is malformed.", (await doubled.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());

        using var same = ClientWithKey(_system.Edge, "x-api-key", aliceKey);
        same.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"Bearer {aliceKey}");
        Assert.Equal(alice.UserId, (await same.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct)).GetProperty("id").GetGuid());
    }

    internal static async Task<(Guid Id, string Key)> CreateKeyAsync(TestUser user, DateTimeOffset? expiresAt = null)
    {
        using var response = await user.Client.PostAsJsonAsync("/api/keys", new { name = "test key", expiresAt }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (created.GetProperty("id").GetGuid(), created.GetProperty("key").GetString()!);
    }

    internal static HttpClient ClientWithKey(IServiceHost edge, string header, string value)
    {
        var client = edge.CreateHttpClient();
        if (header == "Authorization")
        {
            client.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(value);
        }
        else
        {
            client.DefaultRequestHeaders.Add(header, value);
        }
        return client;
    }

    internal static async Task<TimeSpan> WaitForRefusalAsync(HttpClient client)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var response = await client.GetAsync("/api/auth/me", Ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return waited.Elapsed;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(20, Ct);
        }
        throw new Xunit.Sdk.XunitException("The revoked key was still accepted after 5 s.");
    }
}
