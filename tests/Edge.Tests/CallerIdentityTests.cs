using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

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
    }
}
