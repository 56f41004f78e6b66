using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Gateway.Devices.LiveEvents;

namespace Devices.Tests;

// Identity, Keys and Devices behind the edge: every way a user's authorisation can end mid-socket.
public sealed class RevocationSystem(GatewayInfrastructure infrastructure) : DevicesSystem(infrastructure)
{
    protected override GatewayService[] Services => [GatewayService.Identity, GatewayService.Keys, GatewayService.Devices];
}

// A live socket is authorised once, when it opens; whatever ends that authorisation closes it within a second,
// with a close status and reason the client can read, and the same token cannot open another.
public sealed class LiveSocketRevocationTests(RevocationSystem devices) : IClassFixture<RevocationSystem>
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Signing_out_closes_that_sessions_sockets_within_a_second_and_no_other()
    {
        var user = await devices.RegisterUserAsync();
        var otherSession = await SignInAgainAsync(user);
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, user);
        await using var elsewhere = await LiveSocket.ConnectAsync(devices.System.Edge, otherSession);

        using var logout = await user.Client.PostAsJsonAsync("/api/auth/logout", new { refreshToken = user.RefreshToken }, Api.Ct);
        await logout.ShouldBe(HttpStatusCode.OK);
        var closedAfter = await ClosedAfterAsync(live, "sign-out");

        AssertClosedBecauseTheSessionEnded(live, closedAfter);
        Assert.False(elsewhere.Completion.IsCompleted, "The user's other sign-in lost its socket too.");
        await AssertRefusedAsync(user.AccessToken, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_reused_refresh_token_ends_the_session_and_closes_its_socket_within_a_second()
    {
        var user = await devices.RegisterUserAsync();
        await using var live = await LiveSocket.ConnectAsync(devices.System.Edge, user);
        using var edge = devices.Edge();
        using var rotated = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.RefreshToken }, Api.Ct);
        await rotated.ShouldBe(HttpStatusCode.OK);

        // Someone replays the old refresh token: Identity ends the whole session (its token family).
        using var replayed = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.RefreshToken }, Api.Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        var closedAfter = await ClosedAfterAsync(live, "refresh token's reuse");

        AssertClosedBecauseTheSessionEnded(live, closedAfter);
        await AssertRefusedAsync(user.AccessToken, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_member_removed_from_the_organisation_loses_their_socket_within_a_second()
    {
        var owner = await devices.RegisterUserAsync();
        var member = await devices.InviteAsync(owner, "member");
        await using var memberLive = await LiveSocket.ConnectAsync(devices.System.Edge, member);
        await using var ownerLive = await LiveSocket.ConnectAsync(devices.System.Edge, owner);

        using var remove = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Api.Ct);
        await remove.ShouldBe(HttpStatusCode.NoContent);
        var closedAfter = await ClosedAfterAsync(memberLive, "member's removal");

        Assert.True(closedAfter <= WithinASecond, $"The removed member's socket closed {closedAfter.TotalMilliseconds:0} ms after the removal.");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, memberLive.CloseStatus);
        Assert.False(string.IsNullOrWhiteSpace(memberLive.CloseReason));
        // The organisation's other sockets hear about it and stay open.
        await ownerLive.NextAsync("user_removed", member.UserId);
        Assert.False(ownerLive.Completion.IsCompleted);
        await AssertRefusedAsync(member.AccessToken, HttpStatusCode.Unauthorized);
    }

    // API keys have no role and open no dashboard socket (CallerPolicies.Member), so a revoked key has none to close.
    [Fact]
    public async Task An_api_key_cannot_open_a_live_socket()
    {
        var user = await devices.RegisterUserAsync();
        using var created = await user.Client.PostAsJsonAsync("/api/keys", new { name = "dashboard?" }, Api.Ct);
        var key = (await created.ShouldBe(HttpStatusCode.Created)).GetProperty("key").GetString()!;

        await AssertRefusedAsync(key, HttpStatusCode.Forbidden);
    }

    // From the answer of the request that ended the authorisation to the close frame the client read.
    private static async Task<TimeSpan> ClosedAfterAsync(LiveSocket live, string after)
    {
        var since = Stopwatch.StartNew();
        await live.Completion.WaitAsync(TimeSpan.FromSeconds(15), Api.Ct);
        var elapsed = since.Elapsed;
        TestContext.Current.SendDiagnosticMessage($"socket closed {elapsed.TotalMilliseconds:0} ms after the {after} was answered");
        return elapsed;
    }

    private static void AssertClosedBecauseTheSessionEnded(LiveSocket live, TimeSpan closedAfter)
    {
        Assert.True(closedAfter <= WithinASecond, $"The socket closed {closedAfter.TotalMilliseconds:0} ms after the session ended.");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, live.CloseStatus);
        Assert.Equal(LiveEventHub.SessionEndedReason, live.CloseReason);
    }

    // The edge hears the end on its own queue, in parallel with Devices: it refuses the credential within moments.
    private async Task AssertRefusedAsync(string credential, HttpStatusCode status)
    {
        var refusal = await Eventually.UntilAsync(async () =>
        {
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", $"Bearer {credential}");
            try
            {
                await socket.ConnectAsync(LiveSocket.Url(devices.System.Edge.Address, null), Api.Ct);
                return null;
            }
            catch (WebSocketException refused)
            {
                return refused.Message;
            }
        }, refused => refused is not null, TimeSpan.FromSeconds(2));
        Assert.Contains($"'{(int)status}'", refusal ?? "accepted");
    }

    private async Task<TestUser> SignInAgainAsync(TestUser user)
    {
        using var edge = devices.Edge();
        using var login = await edge.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = user.Password }, Api.Ct);
        var session = await login.ShouldBe(HttpStatusCode.OK);
        var accessToken = session.GetProperty("accessToken").GetString()!;
        var client = devices.Edge();
        client.DefaultRequestHeaders.Authorization = new("Bearer", accessToken);
        return user with { AccessToken = accessToken, RefreshToken = session.GetProperty("refreshToken").GetString()!, Client = client };
    }
}
