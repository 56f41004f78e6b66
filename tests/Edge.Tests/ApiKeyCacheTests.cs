using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Edge.Authentication;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Edge.Tests.ApiKeyTests;

namespace Edge.Tests;

// The edge's key cache in Redis is shared by its replicas, and anything else that reaches Redis can write there
// too: an entry counts only if an edge wrote it (a MAC under Edge:ApiKeys:CacheKey, which only edges hold).
public sealed class ApiKeyCacheTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private GatewaySystem _system = null!;
    private ConnectionMultiplexer _redis = null!;

    public async ValueTask InitializeAsync()
    {
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys],
            configureServices: (service, services) =>
            {
                if (service is null) services.AddFakeLogging();
            });
        // Another process that can reach the edge's Redis database, as an intruder could.
        _redis = await ConnectionMultiplexer.ConnectAsync(_system.Resources.Redis);
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _system.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IDatabase Redis => _redis.GetDatabase();

    [Fact]
    public async Task Entries_planted_in_Redis_are_not_trusted_the_key_resolves_to_its_owner_and_the_plant_is_replaced()
    {
        var owner = await _system.RegisterUserAsync();
        var intruder = await _system.RegisterUserAsync();
        var (keyId, key) = await CreateKeyAsync(owner);
        var (_, deniedKey) = await CreateKeyAsync(owner);
        var unknownKey = "sk_live_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var naming = JsonSerializer.Serialize(new { keyId, userId = intruder.UserId, organizationId = intruder.OrganizationId, expiresAt = (DateTimeOffset?)null },
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        // As the edge wrote entries before they carried a MAC, and with a MAC made up by whoever planted it.
        var planted = new Dictionary<string, string>
        {
            [key] = naming,
            [unknownKey] = $"{new string('A', 43)}.{DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeMilliseconds()}.{naming}",
            [deniedKey] = "-",
        };
        foreach (var (plantedFor, value) in planted)
        {
            await Redis.StringSetAsync(CacheName(plantedFor), value);
        }

        using var withKey = ClientWithKey(_system.Edge, "x-api-key", key);
        var me = await withKey.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct);
        using var withUnknownKey = ClientWithKey(_system.Edge, "x-api-key", unknownKey);
        using var unknown = await withUnknownKey.GetAsync("/api/auth/me", Ct);
        using var withDeniedKey = ClientWithKey(_system.Edge, "x-api-key", deniedKey);
        using var denied = await withDeniedKey.GetAsync("/api/auth/me", Ct);

        Assert.Equal(owner.UserId, me.GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        foreach (var (plantedFor, value) in planted)
        {
            Assert.NotEqual(value, (string?)await Redis.StringGetAsync(CacheName(plantedFor)));
        }
        // One warning per planted entry, naming neither what was planted nor the edge's key.
        var cacheKey = _system.Edge.Provider.GetRequiredService<IOptions<ApiKeyCacheOptions>>().Value.CacheKey;
        var warnings = Warnings(_system.Edge);
        Assert.Equal(3, warnings.Count);
        Assert.All(warnings, warning =>
        {
            Assert.Contains("MAC does not verify", warning);
            Assert.DoesNotContain(intruder.UserId.ToString(), warning);
            Assert.DoesNotContain(cacheKey, warning);
        });
    }

    [Fact]
    public async Task A_cached_entry_tampered_with_in_Redis_is_refused_by_another_edge_and_replaced_by_one_it_can_trust()
    {
        var owner = await _system.RegisterUserAsync();
        var intruder = await _system.RegisterUserAsync();
        var (_, key) = await CreateKeyAsync(owner);
        using var first = ClientWithKey(_system.Edge, "x-api-key", key);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/auth/me", Ct)).StatusCode);
        string genuine = (await Redis.StringGetAsync(CacheName(key)))!;

        // The value made to name someone else, its MAC left as it was: another edge asks Keys instead.
        var renamed = genuine.Replace(owner.UserId.ToString(), intruder.UserId.ToString());
        Assert.NotEqual(genuine, renamed);
        await Redis.StringSetAsync(CacheName(key), renamed);
        var second = await _system.StartEdgeAsync();
        using var viaSecond = ClientWithKey(second, "x-api-key", key);
        var me = await viaSecond.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct);
        Assert.Equal(owner.UserId, me.GetProperty("id").GetGuid());
        string replaced = (await Redis.StringGetAsync(CacheName(key)))!;
        Assert.NotEqual(renamed, replaced);

        // The replacement is one every edge trusts: a third edge accepts the key from it while Keys is down…
        await _system[GatewayService.Keys].DisposeAsync();
        var third = await _system.StartEdgeAsync();
        using var viaThird = ClientWithKey(third, "x-api-key", key);
        me = await viaThird.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct);
        Assert.Equal(owner.UserId, me.GetProperty("id").GetGuid());

        // …and with one character of its MAC changed, a fourth cannot check the key at all rather than believe it.
        await Redis.StringSetAsync(CacheName(key), (replaced[0] == 'A' ? "B" : "A") + replaced[1..]);
        var fourth = await _system.StartEdgeAsync();
        using var viaFourth = ClientWithKey(fourth, "x-api-key", key);
        using var refused = await viaFourth.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Single(Warnings(second));
        Assert.Single(Warnings(fourth));
    }

    [Fact]
    public async Task A_revocation_heard_by_one_edge_is_kept_by_an_edge_that_starts_later_even_while_Keys_is_down()
    {
        var owner = await _system.RegisterUserAsync();
        var (keyId, key) = await CreateKeyAsync(owner);
        using var first = ClientWithKey(_system.Edge, "x-api-key", key);
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/api/auth/me", Ct)).StatusCode);
        string cached = (await Redis.StringGetAsync(CacheName(key)))!;

        using var revoke = await owner.Client.DeleteAsync($"/api/keys/{keyId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await WaitForRefusalAsync(first);
        // The edge refuses the key as soon as it hears of the revocation; its tombstone reaches Redis just after.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((string?)await Redis.StringGetAsync(CacheName(key)) == cached)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), "The edge wrote no tombstone over its cached entry within 5 s.");
            await Task.Delay(20, Ct);
        }
        await _system[GatewayService.Keys].DisposeAsync();
        var later = await _system.StartEdgeAsync();
        using var viaLater = ClientWithKey(later, "x-api-key", key);
        using var response = await viaLater.GetAsync("/api/auth/me", Ct);

        // 401 from the tombstone, not 503 for a key it could not check.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(Warnings(later));
    }

    [Fact]
    public async Task An_edge_without_a_32_byte_cache_key_does_not_start_and_names_the_setting()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewaySystem.StartAsync(infrastructure, [],
            settings: new Dictionary<string, string?> { ["Edge:ApiKeys:CacheKey"] = Convert.ToBase64String(new byte[16]) }));

        Assert.Contains("Edge:ApiKeys:CacheKey (environment Edge__ApiKeys__CacheKey) must be the base64 of 32 random bytes", failure.Message);
    }

    private static string CacheName(string key) => $"edge:apikey:{ApiKeyHash.Of(key)}";

    private static IReadOnlyList<string> Warnings(IServiceHost edge) =>
        [.. edge.Provider.GetRequiredService<FakeLogCollector>().GetSnapshot()
            .Where(record => record.Level == LogLevel.Warning && record.Category == typeof(ApiKeyResolver).FullName)
            .Select(record => record.Message)];
}
