using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;

namespace Edge.Tests;

// Who the caller is gets decided at the edge only; services believe nothing a client sends.
public sealed class CallerIdentityTests(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    private GatewaySystem _system = null!;

    public async ValueTask InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity, GatewayService.Keys]);

    public ValueTask DisposeAsync() => _system.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_access_token_reaches_the_service_as_its_user()
    {
        var user = await _system.RegisterUserAsync();

        var me = await user.Client.GetFromJsonAsync<JsonElement>("/api/auth/me", Ct);

        Assert.Equal(user.UserId, me.GetProperty("id").GetGuid());
        Assert.Equal(user.Email, me.GetProperty("email").GetString());
    }

    [Fact]
    public async Task The_edge_has_no_default_authentication_scheme()
    {
        // A request is authenticated once, by what it presents (CallerAuthenticationMiddleware). With a default scheme,
        // ASP.NET Core's own middleware would also run the access-token handler on every request, keyed ones included.
        var schemes = _system.Edge.Provider.GetRequiredService<IAuthenticationSchemeProvider>();

        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());
    }

    [Fact]
    public async Task Forged_identity_headers_are_ignored()
    {
        var victim = await _system.RegisterUserAsync();
        using var attacker = _system.CreateEdgeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
        request.Headers.Add("X-User-Id", victim.UserId.ToString());
        request.Headers.Add("X-Gateway-Caller", victim.AccessToken);

        using var response = await attacker.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_service_called_without_the_edge_refuses_even_a_valid_access_token()
    {
        var user = await _system.RegisterUserAsync();
        using var direct = _system[GatewayService.Identity].CreateHttpClient();
        direct.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);

        using var response = await direct.GetAsync("/api/auth/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_tampered_access_token_is_refused_at_the_edge_with_a_reason()
    {
        var user = await _system.RegisterUserAsync();
        var parts = user.AccessToken.Split('.');
        var claims = JsonSerializer.Deserialize<Dictionary<string, object>>(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]))!;
        claims["sub"] = Guid.NewGuid().ToString();
        var forged = $"{parts[0]}.{Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims))}.{parts[2]}";
        using var client = _system.CreateEdgeClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);

        using var response = await client.GetAsync("/api/auth/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The access token is not valid.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("x-api-key", "sk_live_short")]
    [InlineData("x-api-key", "not-a-key-at-all")]
    [InlineData("Authorization", "Bearer sk_live_abc")]
    public async Task A_malformed_api_key_is_refused_at_the_edge(string header, string value)
    {
        using var client = _system.CreateEdgeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The API key is malformed.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_route_that_needs_a_caller_answers_401_with_how_to_authenticate()
    {
        using var client = _system.CreateEdgeClient();

        using var response = await client.GetAsync("/api/keys", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task An_unknown_api_key_is_refused()
    {
        using var client = _system.CreateEdgeClient();
        client.DefaultRequestHeaders.Add("x-api-key", "sk_live_" + new string('A', 43));

        using var response = await client.GetAsync("/api/auth/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_edges_limit_is_a_413_problem_not_a_502()
    {
        var user = await _system.RegisterUserAsync();
        using var content = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await user.Client.PostAsync("/api/keys", content, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("The request body is 2,097,152 bytes; /api/keys accepts at most 65,536.", problem.GetProperty("detail").GetString());
    }

    // Signing out (and a member's removal) ends the session's access tokens at every edge, not only its refresh
    // token: Identity publishes SessionEnded (gateway/Yarp/Authentication/EndedSessions.cs).
    [Fact]
    public async Task After_sign_out_every_edge_refuses_the_sessions_access_token_within_a_second()
    {
        var user = await _system.RegisterUserAsync();
        using var edgeB = WithToken(await _system.StartEdgeAsync(), user.AccessToken);
        foreach (var client in new[] { user.Client, edgeB })
        {
            using var me = await client.GetAsync("/api/auth/me", Ct);
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        using var logout = await user.Client.PostAsJsonAsync("/api/auth/logout", new { refreshToken = user.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        var signedOut = Stopwatch.StartNew();

        await WaitUntilTheEdgeEndsTheSessionAsync(user.Client);
        await WaitUntilTheEdgeEndsTheSessionAsync(edgeB);
        Assert.True(signedOut.Elapsed < TimeSpan.FromSeconds(1.5), $"Refused only after {signedOut.Elapsed.TotalMilliseconds:0} ms");

        // An edge that starts afterwards learns it from Redis; a new sign-in of the same user is untouched.
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
        using (var me = await member.Client.GetAsync("/api/auth/me", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        using var remove = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);

        await WaitUntilTheEdgeEndsTheSessionAsync(member.Client);
    }

    // Anything that reaches Redis can add to the set; all it can do is refuse a session, never stop an edge.
    [Fact]
    public async Task An_edge_starts_and_keeps_serving_beside_an_ended_session_planted_in_Redis_with_an_absurd_expiry()
    {
        var user = await _system.RegisterUserAsync();
        var signedOut = await _system.RegisterUserAsync();
        using var logout = await signedOut.Client.PostAsJsonAsync("/api/auth/logout", new { refreshToken = signedOut.RefreshToken }, Ct);
        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        await WaitUntilTheEdgeEndsTheSessionAsync(signedOut.Client);
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_system.Resources.Redis))
        {
            await redis.GetDatabase().SortedSetAddAsync("edge:ended-sessions", Guid.NewGuid().ToString(), double.PositiveInfinity);
        }

        var later = await _system.StartEdgeAsync();
        // It has read the set when it refuses the session that really ended.
        using var refused = WithToken(later, signedOut.AccessToken);
        await WaitUntilTheEdgeEndsTheSessionAsync(refused);
        using var client = WithToken(later, user.AccessToken);
        using var me = await client.GetAsync("/api/auth/me", Ct);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    private static HttpClient WithToken(IServiceHost edge, string accessToken)
    {
        var client = edge.CreateHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    // Until the edge itself refuses the token as belonging to an ended session. Meanwhile it may still pass, or
    // Identity may refuse it on its own (a removed account "no longer exists").
    private static async Task WaitUntilTheEdgeEndsTheSessionAsync(HttpClient client)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var response = await client.GetAsync("/api/auth/me", Ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized
                && (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!.Contains("session has ended"))
            {
                return;
            }
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, $"Unexpected {(int)response.StatusCode}");
            await Task.Delay(20, Ct);
        }
        throw new Xunit.Sdk.XunitException("The edge still accepted the ended session's access token after 5 s.");
    }
}
