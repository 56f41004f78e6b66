using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Edge.Tests;

public sealed class RateLimitTests(GatewayInfrastructure infrastructure)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Limits(int permits, string window, string? redis = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Edge:RateLimits:Groups:identity:PermitLimit"] = permits.ToString(),
            ["Edge:RateLimits:Groups:identity:Window"] = window,
        };
        if (redis is not null)
        {
            settings["ConnectionStrings:redis"] = redis;
        }
        return settings;
    }

    [Fact]
    public async Task A_caller_over_the_limit_gets_429_with_retry_after_and_recovers_after_the_window()
    {
        // The edge's windows follow a clock the test moves, so the window ends when the test says, not after a wait.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity], settings: Limits(3, "00:00:02"),
            configureServices: (service, services) =>
            {
                if (service is null) services.AddSingleton<TimeProvider>(clock);
            });
        var user = await system.RegisterUserAsync();

        // Limit 3 per 2 s window, and time stands still: the 4th request is refused.
        var refused = await FirstRefusalAsync(user.Client, attempts: 4);

        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("3", refused.Headers.GetValues("RateLimit-Limit").Single());
        Assert.Equal("0", refused.Headers.GetValues("RateLimit-Remaining").Single());
        var retryAfter = refused.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("No Retry-After header.");
        Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        using var stillRefused = await user.Client.GetAsync("/api/user", Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, stillRefused.StatusCode);
        clock.Advance(retryAfter);
        using var after = await user.Client.GetAsync("/api/user", Ct);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Limits_are_per_caller_and_shared_by_every_edge_replica()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity], settings: Limits(4, "01:00:00"));
        var alice = await system.RegisterUserAsync();
        var bob = await system.RegisterUserAsync();
        var secondEdge = await system.StartEdgeAsync();
        using var aliceOnSecondEdge = secondEdge.CreateHttpClient();
        aliceOnSecondEdge.DefaultRequestHeaders.Authorization = alice.Client.DefaultRequestHeaders.Authorization;

        // Replicas add up their counts in Redis every 100 ms; requests further apart than that see one limit
        // (an hour's window, so that the test never straddles two windows).
        await using var redis = await ConnectionMultiplexer.ConnectAsync(system.Resources.Redis);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await alice.Client.GetAsync("/api/user", Ct)).StatusCode);
            await SharedAsync(redis, alice.UserId, statuses.Count);
            statuses.Add((await aliceOnSecondEdge.GetAsync("/api/user", Ct)).StatusCode);
            await SharedAsync(redis, alice.UserId, statuses.Count);
        }

        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await bob.Client.GetAsync("/api/user", Ct)).StatusCode);
    }

    [Fact]
    public async Task Without_redis_limits_are_counted_locally_and_bad_credentials_are_still_refused()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys], settings: Limits(2, "00:01:00", redis: "127.0.0.1:1"));
        using var client = system.CreateEdgeClient();
        client.DefaultRequestHeaders.Add("x-api-key", "sk_live_" + new string('B', 43));

        using var refused = await client.GetAsync("/api/user", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var anonymous = system.CreateEdgeClient();
        var anonymousStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++) anonymousStatuses.Add((await anonymous.GetAsync("/api/user", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, anonymousStatuses[^1]);
    }

    [Fact]
    public async Task On_the_OpenAI_API_a_429_comes_in_OpenAIs_shape_with_its_headers()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys], settings: new Dictionary<string, string?>
        {
            ["Edge:RateLimits:Groups:chat:PermitLimit"] = "2",
            ["Edge:RateLimits:Groups:chat:Window"] = "01:00:00",
        });
        var user = await system.RegisterUserAsync();
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "sdk" }, Ct);
        using var client = system.CreateEdgeClient();
        client.DefaultRequestHeaders.Add("x-api-key", (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("key").GetString());

        // Chat is not running here: the two admitted requests fail behind the edge; the third never leaves it. A
        // request the edge cannot authenticate yet (a cold Keys service past the edge's 3 s lookup: 503) is
        // refused before it is counted, so it is sent again.
        var admitted = 0;
        for (var attempt = 0; admitted < 2 && attempt < 10; attempt++)
        {
            using var response = await client.GetAsync("/v1/models", Ct);
            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable });
            if (response.StatusCode == HttpStatusCode.BadGateway) admitted++;
        }
        Assert.Equal(2, admitted);
        using var refused = await client.GetAsync("/v1/models", Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("2", refused.Headers.GetValues("RateLimit-Limit").Single());
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        var error = (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.StartsWith("Rate limit of 2 requests reached", error.GetProperty("message").GetString());
    }

    // Waits until Redis holds every request the caller made (each replica adds its own every SyncInterval), then
    // gives the other replica its next sync to read the total back: nothing outside the edge shows that read, so
    // that part is a wait of two intervals.
    private static async Task SharedAsync(ConnectionMultiplexer redis, Guid userId, long requests)
    {
        var counted = await Eventually.UntilAsync(async () =>
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var total = 0L;
            await foreach (var key in server.KeysAsync(redis.GetDatabase().Database, $"edge:rl:identity:user:{userId}:*"))
            {
                total += (long)await redis.GetDatabase().StringGetAsync(key);
            }
            return total;
        }, total => total >= requests, TimeSpan.FromSeconds(10));
        Assert.Equal(requests, counted);
        await Task.Delay(TimeSpan.FromMilliseconds(200), Ct);
    }

    private static async Task<HttpResponseMessage> FirstRefusalAsync(HttpClient client, int attempts)
    {
        for (var i = 0; i < attempts; i++)
        {
            var response = await client.GetAsync("/api/user", Ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return response;
        }
        throw new Xunit.Sdk.XunitException($"No 429 within {attempts} requests.");
    }
}
