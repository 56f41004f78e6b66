using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Edge.Tests;

// Signing out ends the session's access tokens at every edge, not only its refresh token (Identity publishes
// SessionEnded; gateway/Yarp/Authentication/EndedSessions.cs).
public sealed class SignOutTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity]);

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_sign_out_every_edge_refuses_the_sessions_access_token_within_a_second()
    {
        var user = await _system.RegisterUserAsync();
        using var edgeA = WithToken(_system.Edge, user.AccessToken);
        using var edgeB = WithToken(await _system.StartEdgeAsync(), user.AccessToken);
        foreach (var client in new[] { edgeA, edgeB })
        {
            using var me = await client.GetAsync("/api/auth/me", Ct);
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        using var logout = await edgeA.PostAsJsonAsync("/api/auth/logout", new { refreshToken = user.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        var signedOut = Stopwatch.StartNew();

        var problemA = await WaitForRefusalAsync(edgeA);
        await WaitForRefusalAsync(edgeB);
        Assert.True(signedOut.Elapsed < TimeSpan.FromSeconds(1.5), $"Refused only after {signedOut.Elapsed.TotalMilliseconds:0} ms");
        Assert.Contains("ended", problemA.GetProperty("detail").GetString());

        // An edge that starts afterwards learns it from Redis; another session of the same user is untouched.
        using var edgeC = WithToken(await _system.StartEdgeAsync(), user.AccessToken);
        using var refused = await edgeC.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var login = await _system.CreateEdgeClient().PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = user.Password }, Ct);
        var fresh = await login.Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var again = WithToken(_system.Edge, fresh.GetProperty("accessToken").GetString()!);
        using var meAgain = await again.GetAsync("/api/auth/me", Ct);
        Assert.Equal(HttpStatusCode.OK, meAgain.StatusCode);
    }

    [Fact]
    public async Task A_removed_members_access_token_is_refused_at_the_edge()
    {
        var owner = await _system.RegisterUserAsync();
        var member = await _system.InviteAsync(owner, "member");
        using var asMember = WithToken(_system.Edge, member.AccessToken);
        using (var me = await asMember.GetAsync("/api/auth/me", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        using var remove = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);

        // Identity itself refuses a removed account at once ("no longer exists"); the edge's own refusal, which
        // every other service relies on, follows when SessionEnded arrives.
        var waited = Stopwatch.StartNew();
        string? detail = null;
        while (waited.Elapsed < TimeSpan.FromSeconds(5) && detail?.Contains("ended") != true)
        {
            using var response = await asMember.GetAsync("/api/auth/me", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            detail = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString();
            await Task.Delay(20, Ct);
        }
        Assert.Contains("ended", detail);
    }

    private static HttpClient WithToken(IServiceHost edge, string accessToken)
    {
        var client = edge.CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    private static async Task<JsonElement> WaitForRefusalAsync(HttpClient client)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var response = await client.GetAsync("/api/auth/me", Ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(20, Ct);
        }
        throw new Xunit.Sdk.XunitException("The signed-out session's access token was still accepted after 5 s.");
    }
}
