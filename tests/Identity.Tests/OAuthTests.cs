using System.Net;
using System.Net.Http.Json;
using System.Web;
using static Identity.Tests.Api;

namespace Identity.Tests;

// Identity with "github" pointed at a local OAuth provider; google and microsoft left unconfigured.
public sealed class OAuthSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public FakeOAuthProvider Provider { get; private set; } = null!;
    public GatewaySystem System { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Provider = await FakeOAuthProvider.StartAsync();
        System = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity], settings: Provider.Settings("github"));
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public sealed class OAuthTests(OAuthSystem oauth) : IClassFixture<OAuthSystem>
{
    private readonly HttpClient _browser = new(new HttpClientHandler { AllowAutoRedirect = false });

    [Fact]
    public async Task Signing_in_with_github_creates_an_account_and_returns_tokens()
    {
        using var edge = oauth.System.CreateEdgeClient();
        var email = NewEmail("octo");
        oauth.Provider.SigningIn = new(NewId(), email, "Octo Cat");

        using var response = await CompleteSignInAsync(edge, await StartAsync(edge));

        await response.ShouldBe(HttpStatusCode.OK);
        var tokens = await response.JsonAsync();
        using var me = await edge.GetAsync("/api/auth/me", tokens.GetProperty("accessToken").GetString()!);
        var user = await me.JsonAsync();
        Assert.Equal(email, user.GetProperty("email").GetString());
        Assert.Equal("Octo Cat", user.GetProperty("name").GetString());
        Assert.Equal("owner", user.GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(tokens.GetProperty("refreshToken").GetString()));
    }

    [Fact]
    public async Task Signing_in_again_with_the_same_github_account_opens_the_same_account()
    {
        using var edge = oauth.System.CreateEdgeClient();
        oauth.Provider.SigningIn = new(NewId(), NewEmail("octo"), "Octo");
        using var first = await CompleteSignInAsync(edge, await StartAsync(edge));

        using var second = await CompleteSignInAsync(edge, await StartAsync(edge));

        await second.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(
            (await first.JsonAsync()).GetProperty("user").GetProperty("id").GetGuid(),
            (await second.JsonAsync()).GetProperty("user").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task The_start_redirects_to_the_provider_with_state_and_pkce()
    {
        using var edge = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = oauth.System.Edge.Address };

        using var response = await edge.GetAsync("/api/auth/oauth/github", Cancel);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        var query = HttpUtility.ParseQueryString(location.Query);
        Assert.StartsWith(oauth.Provider.Address.ToString(), location.ToString());
        Assert.False(string.IsNullOrEmpty(query["state"]));
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.EndsWith("/api/auth/oauth/github/callback", query["redirect_uri"]);
    }

    [Fact]
    public async Task A_forged_state_is_refused()
    {
        using var edge = oauth.System.CreateEdgeClient();
        oauth.Provider.SigningIn = new(NewId(), NewEmail("octo"), "Octo");
        var callback = await AuthorizeAsync(await StartAsync(edge));
        var forged = callback.Replace($"state={Uri.EscapeDataString(HttpUtility.ParseQueryString(new Uri(callback).Query)["state"]!)}", "state=forged-state");

        using var response = await edge.GetAsync(new Uri(forged).PathAndQuery, Cancel);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "state");
    }

    [Fact]
    public async Task A_replayed_callback_is_refused()
    {
        using var edge = oauth.System.CreateEdgeClient();
        oauth.Provider.SigningIn = new(NewId(), NewEmail("octo"), "Octo");
        var callback = await AuthorizeAsync(await StartAsync(edge));
        using var first = await edge.GetAsync(new Uri(callback).PathAndQuery, Cancel);

        using var replay = await edge.GetAsync(new Uri(callback).PathAndQuery, Cancel);

        await first.ShouldBe(HttpStatusCode.OK);
        await replay.ShouldBeProblem(HttpStatusCode.BadRequest, "state");
    }

    [Fact]
    public async Task A_reused_code_is_refused_by_the_provider_and_by_us()
    {
        using var edge = oauth.System.CreateEdgeClient();
        oauth.Provider.SigningIn = new(NewId(), NewEmail("octo"), "Octo");
        var firstCallback = await AuthorizeAsync(await StartAsync(edge));
        var code = HttpUtility.ParseQueryString(new Uri(firstCallback).Query)["code"]!;
        using var first = await edge.GetAsync(new Uri(firstCallback).PathAndQuery, Cancel);

        // A fresh, valid state carrying the code that was already exchanged.
        var secondCallback = await AuthorizeAsync(await StartAsync(edge));
        using var reused = await edge.GetAsync(new Uri(secondCallback.Replace($"code={HttpUtility.ParseQueryString(new Uri(secondCallback).Query)["code"]}", $"code={code}")).PathAndQuery, Cancel);

        await first.ShouldBe(HttpStatusCode.OK);
        await reused.ShouldBeProblem(HttpStatusCode.Unauthorized, "code");
    }

    [Fact]
    public async Task A_github_email_that_belongs_to_a_password_account_is_not_taken_over()
    {
        using var edge = oauth.System.CreateEdgeClient();
        var email = NewEmail("victim");
        var owner = await edge.RegisterAsync(email);
        oauth.Provider.SigningIn = new(NewId(), email, "Attacker");

        using var response = await CompleteSignInAsync(edge, await StartAsync(edge));

        await response.ShouldBeProblem(HttpStatusCode.Conflict, "email");
        Assert.DoesNotContain("accessToken", await response.Content.ReadAsStringAsync(Cancel));
        var session = await edge.LoginAsync(email);
        Assert.Equal(owner.UserId, session.UserId);
    }

    [Fact]
    public async Task A_signed_in_user_connects_github_and_then_signs_in_with_it()
    {
        using var edge = oauth.System.CreateEdgeClient();
        var email = NewEmail("owner");
        var owner = await edge.RegisterAsync(email);
        oauth.Provider.SigningIn = new(NewId(), email, "Same Person");

        using var connect = await CompleteSignInAsync(edge, await StartAsync(edge, owner.AccessToken));
        using var later = await CompleteSignInAsync(edge, await StartAsync(edge));

        await connect.ShouldBe(HttpStatusCode.OK);
        await later.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(owner.UserId, (await later.JsonAsync()).GetProperty("user").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_private_github_email_is_read_from_the_verified_primary_address()
    {
        using var edge = oauth.System.CreateEdgeClient();
        var primary = NewEmail("primary");
        oauth.Provider.SigningIn = new(NewId(), null, "Private", [(NewEmail("unverified"), false, false), (primary, true, true)]);

        using var response = await CompleteSignInAsync(edge, await StartAsync(edge));

        await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(primary, (await response.JsonAsync()).GetProperty("user").GetProperty("email").GetString());
    }

    // A sign-in page asks which to offer (the console asked each provider's start, a 404 for each one not configured).
    [Fact]
    public async Task The_configured_providers_are_listed_for_anyone()
    {
        using var edge = oauth.System.CreateEdgeClient();

        using var response = await edge.GetAsync("/api/auth/oauth", Cancel);

        var listed = (await response.ShouldBe(HttpStatusCode.OK)).GetProperty("providers").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Contains("github", listed);
        Assert.DoesNotContain("google", listed);
    }

    [Theory]
    [InlineData("google")]
    [InlineData("myspace")]
    public async Task An_unconfigured_provider_is_a_clear_404(string provider)
    {
        using var edge = oauth.System.CreateEdgeClient();

        using var start = await edge.GetAsync($"/api/auth/oauth/{provider}", Cancel);
        using var callback = await edge.GetAsync($"/api/auth/oauth/{provider}/callback?code=x&state=y", Cancel);

        var problem = await start.ShouldBeProblem(HttpStatusCode.NotFound, "provider");
        Assert.Contains(provider, problem.GetProperty("detail").GetString());
        await callback.ShouldBeProblem(HttpStatusCode.NotFound, "provider");
    }

    [Fact]
    public async Task A_callback_without_a_code_names_the_field()
    {
        using var edge = oauth.System.CreateEdgeClient();

        using var response = await edge.GetAsync("/api/auth/oauth/github/callback?state=abc", Cancel);

        await response.ShouldBeProblem(HttpStatusCode.BadRequest, "code");
    }

    private static string NewId() => Random.Shared.NextInt64(1, long.MaxValue).ToString();

    // The dashboard's first step: ask for the provider's URL as JSON.
    private static async Task<string> StartAsync(HttpClient edge, string? accessToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/oauth/github");
        request.Headers.Accept.Add(new("application/json"));
        if (accessToken is not null)
        {
            request.Headers.Authorization = new("Bearer", accessToken);
        }
        using var response = await edge.SendAsync(request, Cancel);
        await response.ShouldBe(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Cancel)).GetProperty("url").GetString()!;
    }

    // The browser at the provider: the person approves, the provider redirects back with code and state.
    private async Task<string> AuthorizeAsync(string authorizeUrl)
    {
        using var response = await _browser.GetAsync(authorizeUrl, Cancel);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private async Task<HttpResponseMessage> CompleteSignInAsync(HttpClient edge, string authorizeUrl) =>
        await edge.GetAsync(new Uri(await AuthorizeAsync(authorizeUrl)).PathAndQuery, Cancel);
}
