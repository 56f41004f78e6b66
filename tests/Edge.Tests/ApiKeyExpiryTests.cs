using System.Net;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Edge.Tests.ApiKeyTests;

namespace Edge.Tests;

// The edge's clock is a FakeTimeProvider, so a key's expiry comes when the test moves time, not after a wait.
public sealed class ApiKeyExpiryTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys],
            configureServices: (service, services) =>
            {
                if (service is null) services.AddSingleton<TimeProvider>(_clock);
            });

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_expired_key_is_refused_even_while_cached()
    {
        var user = await _system.RegisterUserAsync();
        var (_, key) = await CreateKeyAsync(user, expiresAt: DateTimeOffset.UtcNow.AddMinutes(10));
        using var client = ClientWithKey(_system.Edge, "x-api-key", key);
        using var before = await client.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        // Past its expiry for the edge only: its cache entry (TTLs on the real clock) and Keys, on the real clock, still hold it valid.
        _clock.Advance(TimeSpan.FromMinutes(11));

        using var response = await client.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
