using System.Net;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Devices.Tests;

public sealed class PresenceTests(DevicesSystem devices) : IClassFixture<DevicesSystem>
{
    [Fact]
    public async Task A_device_goes_online_with_a_heartbeat_offline_after_silence_and_back_online_and_the_dashboard_hears_each_step()
    {
        var owner = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        var registered = await owner.RegisterDeviceAsync("Front desk");
        using var edge = devices.Edge();
        using var activation = await edge.ActivateAsync(registered.ActivationCode);
        var device = new ActivatedDevice(registered.Id, (await activation.ShouldBe(HttpStatusCode.OK)).GetProperty("deviceToken").GetString()!);
        var registeredEvent = await live.NextAsync("device_registered", device.Id);
        await live.NextAsync("device_activated", device.Id);

        using var firstBeat = await devices.HeartbeatAsync(device);
        await firstBeat.ShouldBe(HttpStatusCode.OK);
        var online = await live.NextAsync("device_online", device.Id);
        Assert.Equal("online", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("status").GetString());
        Assert.Equal(1, (await owner.GetJsonAsync("/api/organization/device-health")).GetProperty("online").GetInt32());

        // Silence: no heartbeat for longer than OfflineAfter.
        var offline = await live.NextAsync("device_offline", device.Id, within: DevicesSystem.OfflineAfter * 5);
        Assert.Equal("offline", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("status").GetString());
        var health = await owner.GetJsonAsync("/api/organization/device-health");
        Assert.Equal((0, 1), (health.GetProperty("online").GetInt32(), health.GetProperty("offline").GetInt32()));

        using var returning = await devices.HeartbeatAsync(device);
        await returning.ShouldBe(HttpStatusCode.OK);
        var back = await live.NextAsync(e => e.GetProperty("type").GetString() == "device_online" && e.GetProperty("id").GetInt64() > offline.GetProperty("id").GetInt64());
        Assert.Equal("online", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("status").GetString());

        // Ids count up in the order things happened; each event says when.
        long[] ids = [.. new[] { registeredEvent, online, offline, back }.Select(e => e.GetProperty("id").GetInt64())];
        Assert.Equal(ids.Order(), ids);
        Assert.Equal("offline", offline.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("online", offline.GetProperty("data").GetProperty("previousStatus").GetString());
        Assert.True(offline.GetProperty("at").GetDateTimeOffset() > online.GetProperty("at").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_device_that_keeps_beating_stays_online_with_one_online_event()
    {
        var owner = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);
        var device = await owner.RegisterAndActivateAsync(devices);

        var until = DateTime.UtcNow + DevicesSystem.OfflineAfter * 2;
        while (DateTime.UtcNow < until)
        {
            using var beat = await devices.HeartbeatAsync(device);
            await beat.ShouldBe(HttpStatusCode.OK);
            await Task.Delay(DevicesSystem.OfflineAfter / 4, Api.Ct);
        }

        await live.NextAsync("device_online", device.Id);
        Assert.Single(live.Events("device_online"));
        Assert.Empty(live.Events("device_offline"));
        Assert.Equal("online", (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_device_whose_presence_Redis_lost_still_goes_offline()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterAndActivateAsync(devices);
        using var beat = await devices.HeartbeatAsync(device);
        await beat.ShouldBe(HttpStatusCode.OK);

        // Redis restarted without its data.
        await devices.Devices.GetRequiredService<IConnectionMultiplexer>().GetDatabase().SortedSetRemoveAsync("devices:presence", device.Id.ToString());

        var status = await Eventually.UntilAsync(
            async () => (await owner.GetJsonAsync($"/api/devices/{device.Id}")).GetProperty("status").GetString(),
            s => s == "offline", DevicesSystem.OfflineAfter * 5);
        Assert.Equal("offline", status);
    }
}
