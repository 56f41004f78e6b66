using System.Net;

namespace Devices.Tests;

// The devices routes' rate limit, small enough to reach.
public sealed class RateLimitedDevicesSystem(GatewayInfrastructure infrastructure) : DevicesSystem(infrastructure)
{
    public const int Limit = 4;

    protected override Dictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Edge:RateLimits:Groups:devices:PermitLimit"] = Limit.ToString();
            settings["Edge:RateLimits:Groups:devices:Window"] = "01:00:00"; // a test never straddles two windows
            return settings;
        }
    }
}

// The device trial: 600 bad activation guesses from one address put every device behind it on 429 (one count per
// address for all of them), and they went offline 90 s later. Each device now counts on its own.
public sealed class DeviceRateLimitTests(RateLimitedDevicesSystem devices) : IClassFixture<RateLimitedDevicesSystem>
{
    [Fact]
    public async Task Each_device_has_its_own_limit_apart_from_anonymous_activation_attempts_from_its_address()
    {
        var owner = await devices.RegisterUserAsync();
        var first = await owner.RegisterAndActivateAsync(devices, "First");
        var second = await owner.RegisterAndActivateAsync(devices, "Second");
        using var edge = devices.Edge();

        // Two activations and then guesses from this address: its limit is spent.
        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < RateLimitedDevicesSystem.Limit - 1; i++)
        {
            using var guess = await edge.ActivateAsync("AAAAA-AAAAA");
            guesses.Add(guess.StatusCode);
        }
        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], guesses);

        // Each device's heartbeats still go through, each up to its own limit.
        var beats = new List<HttpStatusCode>();
        for (var i = 0; i <= RateLimitedDevicesSystem.Limit; i++)
        {
            using var beat = await devices.HeartbeatAsync(first);
            beats.Add(beat.StatusCode);
        }
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, RateLimitedDevicesSystem.Limit), HttpStatusCode.TooManyRequests], beats);
        using var other = await devices.HeartbeatAsync(second);
        await other.ShouldBe(HttpStatusCode.OK);
    }
}
