using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Gateway.Contracts;

namespace Devices.Tests;

// Two Devices instances behind the edge, each with its own queue for the sockets it holds; small
// per-socket buffers so that a stalled client is found out quickly.
public sealed class TwoInstanceSystem(GatewayInfrastructure infrastructure) : DevicesSystem(infrastructure)
{
    public static readonly TimeSpan EdgeActivityTimeout = TimeSpan.FromSeconds(5);

    protected override GatewayService[] Services => [GatewayService.Identity, GatewayService.Devices, GatewayService.Devices];

    protected override Dictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            settings["Devices:LiveEvents:ConnectionBuffer"] = "8";
            settings["Devices:LiveEvents:SendTimeout"] = "00:00:02";
            settings["Devices:LiveEvents:ReplayLimit"] = "100";
            // The edge drops an upgraded connection silent for this long; the keep-alive is what keeps a socket open.
            settings["ReverseProxy:Clusters:devices:HttpRequest:ActivityTimeout"] = EdgeActivityTimeout.ToString();
            settings["Devices:LiveEvents:KeepAliveInterval"] = "00:00:01";
            return settings;
        }
    }

    public IReadOnlyList<IServiceHost> Instances => System.Instances(GatewayService.Devices);
}

public sealed class LiveEventTests(TwoInstanceSystem devices) : IClassFixture<TwoInstanceSystem>
{
    [Fact]
    public async Task Every_instance_pushes_the_organisations_events_to_the_sockets_it_holds()
    {
        var owner = await devices.RegisterUserAsync();
        var (first, second) = (devices.Instances[0], devices.Instances[1]);
        await using var onFirst = await LiveSocket.ConnectDirectAsync(first, devices.CallerTokenFor(owner, first.Provider));
        await using var onSecond = await LiveSocket.ConnectDirectAsync(second, devices.CallerTokenFor(owner, second.Provider));
        await using var throughEdge = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        var device = await owner.RegisterDeviceAsync("Kiosk");

        var seen = await Task.WhenAll(new[] { onFirst, onSecond, throughEdge }.Select(s => s.NextAsync("device_registered", device.Id)));
        Assert.Single(seen.Select(e => e.GetProperty("id").GetInt64()).Distinct());
        Assert.All(seen, e => Assert.Equal("Kiosk", e.GetProperty("data").GetProperty("name").GetString()));
    }

    // The device trial: a rename reached no other dashboard, which kept showing the old name.
    [Fact]
    public async Task A_renamed_or_relabelled_device_reaches_the_organisations_sockets_with_what_it_is_called_now()
    {
        var owner = await devices.RegisterUserAsync();
        var device = await owner.RegisterDeviceAsync("Kiosk");
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        using var patch = await owner.Client.PatchAsJsonAsync($"/api/devices/{device.Id}", new { name = "  Lobby kiosk ", labels = new[] { "Lobby", "lobby" } }, Api.Ct);
        await patch.ShouldBe(HttpStatusCode.OK);

        var updated = (await live.NextAsync("device_updated", device.Id)).GetProperty("data");
        Assert.Equal("Lobby kiosk", updated.GetProperty("name").GetString());
        Assert.Equal(["lobby"], updated.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task A_client_that_closes_is_answered_with_its_own_close_not_told_to_reconnect()
    {
        var owner = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        await live.CloseAsync();

        // The stream's lifetime reason ("Reconnect with a fresh access token …") was sent for a close the client asked for.
        Assert.Equal((WebSocketCloseStatus.NormalClosure, ""), (live.CloseStatus, live.CloseReason ?? ""));
    }

    [Fact]
    public async Task Another_organisations_events_never_reach_this_organisations_socket()
    {
        var alice = await devices.RegisterUserAsync();
        var bob = await devices.RegisterUserAsync();
        await using var alicesSocket = await LiveSocket.ConnectAsync(devices.System.Edge, alice);
        await using var bobsSocket = await LiveSocket.ConnectAsync(devices.System.Edge, bob);

        var alicesDevice = await alice.RegisterAndActivateAsync(devices, "Alice's");
        var bobsDevice = await bob.RegisterAndActivateAsync(devices, "Bob's");
        await alicesSocket.NextAsync("device_activated", alicesDevice.Id);
        await bobsSocket.NextAsync("device_activated", bobsDevice.Id);
        // Bob's own later event has arrived, so Alice's earlier one would have too.
        await bobsSocket.NextAsync("device_registered", bobsDevice.Id);

        Assert.DoesNotContain(bobsSocket.Received, e => e.GetRawText().Contains(alicesDevice.Id.ToString()));
        Assert.DoesNotContain(alicesSocket.Received, e => e.GetRawText().Contains(bobsDevice.Id.ToString()));
        Assert.All(bobsSocket.Received.Where(e => e.GetProperty("data").TryGetProperty("organizationId", out _)),
            e => Assert.Equal(bob.OrganizationId, e.GetProperty("data").GetProperty("organizationId").GetGuid()));
    }

    [Fact]
    public async Task Identitys_user_events_reach_the_organisations_socket()
    {
        var owner = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        var member = await devices.InviteAsync(owner, "member");

        var invited = await live.NextAsync(e => e.GetProperty("type").GetString() == "user_invited"
            && e.GetProperty("data").GetProperty("email").GetString() == member.Email);
        await live.NextAsync("user_joined", member.UserId);
        Assert.Equal("member", invited.GetProperty("data").GetProperty("role").GetString());
    }

    [Fact]
    public async Task Withdrawing_an_invitation_reaches_the_organisations_socket()
    {
        var owner = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, owner);
        var email = $"withdrawn-{Guid.NewGuid():N}@example.com";
        using var invite = await owner.Client.PostAsJsonAsync("/api/users/invite", new { email, role = "admin" }, Api.Ct);
        var invitationId = (await invite.ShouldBe(HttpStatusCode.Created)).GetProperty("id").GetGuid();

        using var withdraw = await owner.Client.DeleteAsync($"/api/users/{invitationId}", Api.Ct);

        await withdraw.ShouldBe(HttpStatusCode.NoContent);
        var withdrawn = await live.NextAsync(e => e.GetProperty("type").GetString() == "user_invitation_withdrawn"
            && e.GetProperty("data").GetProperty("invitationId").GetGuid() == invitationId);
        var data = withdrawn.GetProperty("data");
        Assert.Equal(email, data.GetProperty("email").GetString());
        Assert.Equal("admin", data.GetProperty("role").GetString());
        Assert.Equal(owner.UserId, data.GetProperty("withdrawnBy").GetGuid());
        Assert.Equal(owner.OrganizationId, data.GetProperty("organizationId").GetGuid());
    }

    [Fact]
    public async Task A_dropped_client_resumes_from_its_last_event_id_on_any_instance()
    {
        var owner = await devices.RegisterUserAsync();
        var (first, second) = (devices.Instances[0], devices.Instances[1]);
        long lastSeen;
        await using (var before = await LiveSocket.ConnectDirectAsync(first, devices.CallerTokenFor(owner, first.Provider)))
        {
            var seen = await owner.RegisterDeviceAsync("Seen");
            lastSeen = (await before.NextAsync("device_registered", seen.Id)).GetProperty("id").GetInt64();
        }

        var missed1 = await owner.RegisterDeviceAsync("Missed 1");
        var missed2 = await owner.RegisterDeviceAsync("Missed 2");
        // Both are recorded before the client comes back (the replay log is written from a durable queue).
        await using (var peek = await LiveSocket.ConnectAsync(devices.System.Edge, owner))
        {
            await Eventually.UntilAsync(() => Task.FromResult(peek.Received), r => r.Any(e => e.GetProperty("type").GetString() == "connected"
                && e.GetProperty("data").GetProperty("lastEventId").GetInt64() >= lastSeen + 2));
        }
        await using var after = await LiveSocket.ConnectDirectAsync(second, devices.CallerTokenFor(owner, second.Provider), lastEventId: lastSeen);

        var replayed = after.Received.TakeWhile(e => e.GetProperty("type").GetString() != "connected").ToList();
        var ids = replayed.Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => lastSeen + 1 + i), ids);
        Assert.Equal([missed1.Id, missed2.Id], replayed.Where(e => e.GetProperty("type").GetString() == "device_registered")
            .Select(e => e.GetProperty("data").GetProperty("deviceId").GetGuid()));
        Assert.DoesNotContain(after.Received, e => e.GetProperty("type").GetString() == "resync");
    }

    [Fact]
    public async Task A_client_resuming_from_before_what_is_kept_is_told_to_resync()
    {
        var owner = await devices.RegisterUserAsync();
        for (var i = 0; i < 105; i++)
        {
            await devices.PublishAsync(new UserInvited(Guid.NewGuid(), owner.OrganizationId, $"guest{i}@example.com", "member", owner.UserId, DateTimeOffset.UtcNow));
        }
        await using (var peek = await LiveSocket.ConnectAsync(devices.System.Edge, owner))
        {
            await Eventually.UntilAsync(() => Task.FromResult(peek.Received), r => r.Any(e => e.GetProperty("type").GetString() == "connected"
                && e.GetProperty("data").GetProperty("lastEventId").GetInt64() >= 105));
        }

        await using var resumed = await LiveSocket.ConnectAsync(devices.System.Edge, owner, lastEventId: 1);

        Assert.Equal("resync", resumed.Received[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_client_resuming_from_an_id_never_sent_is_told_to_resync_and_still_gets_new_events()
    {
        var owner = await devices.RegisterUserAsync();

        await using var resumed = await LiveSocket.ConnectAsync(devices.System.Edge, owner, lastEventId: 99_999);
        var registered = await owner.RegisterDeviceAsync("After the resync");

        Assert.Equal("resync", resumed.Received[0].GetProperty("type").GetString());
        Assert.Contains("ahead of the latest event", resumed.Received[0].GetProperty("data").GetProperty("reason").GetString());
        await resumed.NextAsync("device_registered", registered.Id);
    }

    [Fact]
    public async Task An_idle_socket_outlives_the_edges_activity_timeout_and_still_gets_events()
    {
        var owner = await devices.RegisterUserAsync();
        await using var socket = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        // A sleep: the check is that the edge does NOT drop the socket, and nothing announces a drop that did not
        // happen. Without the keep-alive the edge would close it one ActivityTimeout after the last frame, so the
        // timeout and a margin for a loaded machine's timers is long enough to tell.
        await Task.Delay(TwoInstanceSystem.EdgeActivityTimeout + TimeSpan.FromSeconds(2), Api.Ct);
        var registered = await owner.RegisterDeviceAsync("After a quiet spell");

        await socket.NextAsync("device_registered", registered.Id);
    }

    [Fact]
    public async Task A_stalled_client_is_dropped_without_slowing_the_others()
    {
        var owner = await devices.RegisterUserAsync();
        var first = devices.Instances[0];
        using var stalled = await LiveSocket.ConnectStalledAsync(first, devices.CallerTokenFor(owner, first.Provider));
        await using var reader = await LiveSocket.ConnectAsync(devices.System.Edge, owner);
        const int Events = 300;
        var padding = new string('x', 64 * 1024);

        // Published no faster than the reader takes them (at most Ahead in flight): the fixture's per-socket
        // buffer is 8 frames, and a busy machine once made this reader fall that far behind and be dropped
        // itself, as any client that stops keeping up is. The stalled client never reads, so it is dropped.
        const int Ahead = 4;
        for (var i = 0; i < Events; i++)
        {
            await devices.PublishAsync(new UserInvited(Guid.NewGuid(), owner.OrganizationId, $"{i}-{padding}@example.com", "member", owner.UserId, DateTimeOffset.UtcNow));
            if (i >= Ahead)
            {
                await Eventually.UntilAsync(() => Task.FromResult(reader.Events("user_invited").Count), n => n > i - Ahead, TimeSpan.FromSeconds(30));
            }
        }

        var delivered = await Eventually.UntilAsync(() => Task.FromResult(reader.Events("user_invited").Count), n => n == Events, TimeSpan.FromSeconds(60));
        Assert.True(delivered == Events, $"The reader got {delivered} of {Events} events; its socket's close status: {reader.CloseStatus?.ToString() ?? "open"}.");

        // The stalled client finds, once it reads, that it was cut off before the end.
        var received = 0;
        var buffer = new byte[256 * 1024];
        var ended = false;
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var result = await stalled.ReceiveAsync(buffer, giveUp.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Assert.Equal(WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
                    ended = true;
                    break;
                }
                if (result.EndOfMessage)
                {
                    received++;
                }
            }
        }
        catch (WebSocketException)
        {
            ended = true;
        }
        Assert.True(ended, "The stalled client was never dropped.");
        Assert.InRange(received, 0, Events);
    }

    [Fact]
    public async Task A_deleted_users_socket_is_closed()
    {
        var owner = await devices.RegisterUserAsync();
        var member = await devices.InviteAsync(owner, "member");
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, member);

        await devices.PublishAsync(new UserDeleted(member.UserId, owner.OrganizationId, DateTimeOffset.UtcNow));

        await live.Completion.WaitAsync(TimeSpan.FromSeconds(15), Api.Ct);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, live.CloseStatus);
    }

    [Fact]
    public async Task A_member_receives_the_organisations_events()
    {
        var owner = await devices.RegisterUserAsync();
        var member = await devices.InviteAsync(owner, "member");
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, member);

        var device = await owner.RegisterAndActivateAsync(devices);
        using var client = devices.DeviceClient(device.Token);
        using var submit = await client.PostAsJsonAsync("/api/customer-sessions", new { transcript = new[] { new { speaker = "customer", text = "Hi" } } }, Api.Ct);
        var session = await submit.ShouldBe(HttpStatusCode.Created);

        var pending = await live.NextAsync("session_pending", session.GetProperty("id").GetGuid());
        using var approve = await owner.Client.PostAsync($"/api/customer-sessions/{session.GetProperty("id").GetGuid()}/approve", null, Api.Ct);
        await approve.ShouldBe(HttpStatusCode.OK);
        await live.NextAsync("session_approved", session.GetProperty("id").GetGuid());
        Assert.Equal(device.Id, pending.GetProperty("data").GetProperty("deviceId").GetGuid());
    }

    [Fact]
    public async Task A_live_connection_needs_a_signed_in_user()
    {
        using var anonymous = new ClientWebSocket();

        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            anonymous.ConnectAsync(LiveSocket.Url(devices.System.Edge.Address, null), Api.Ct));

        Assert.Contains("401", refused.Message);
    }
}
