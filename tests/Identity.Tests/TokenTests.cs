using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Identity.Infrastructure;
using Gateway.Identity.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static Identity.Tests.Api;

namespace Identity.Tests;

public sealed class TokenTests(IdentitySystem identity, GatewayInfrastructure infrastructure) : IClassFixture<IdentitySystem>
{
    [Fact]
    public async Task Refresh_rotates_the_refresh_token()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var response = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken }, Cancel);

        await response.ShouldBe(HttpStatusCode.OK);
        var tokens = await response.JsonAsync();
        Assert.NotEqual(session.RefreshToken, tokens.GetProperty("refreshToken").GetString());
        using var me = await edge.GetAsync("/api/auth/me", tokens.GetProperty("accessToken").GetString()!);
        await me.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Sessions_whose_refresh_tokens_expired_over_a_day_ago_are_purged_and_live_ones_are_kept()
    {
        using var edge = identity.Edge();
        var live = await edge.RegisterAsync();
        var ended = Guid.CreateVersion7();
        using (var scope = identity.Identity.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
            var longAgo = DateTimeOffset.UtcNow.AddDays(-40);
            db.RefreshTokenFamilies.Add(new RefreshTokenFamily { Id = ended, UserId = live.UserId, CreatedAt = longAgo });
            db.RefreshTokens.Add(RefreshToken.Issue(ended, longAgo, TimeSpan.FromDays(30)).Row); // expired 10 days ago
            await db.SaveChangesAsync(Cancel);
        }

        var (tokens, sessions) = await identity.Identity.GetRequiredService<ExpiredSessionPurge>().PurgeAsync(Cancel);

        Assert.True(tokens >= 1 && sessions >= 1, $"{tokens} tokens, {sessions} sessions purged");
        using (var scope = identity.Identity.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
            Assert.False(db.RefreshTokenFamilies.Any(f => f.Id == ended));
            Assert.False(db.RefreshTokens.Any(t => t.FamilyId == ended));
        }
        using var refreshed = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = live.RefreshToken }, Cancel);
        await refreshed.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_accepts_the_refresh_token_as_a_bearer_header()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        // Seed 003 sends no body at all, only the header.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        request.Headers.Authorization = new("Bearer", session.RefreshToken);
        using var response = await edge.SendAsync(request, Cancel);

        await response.ShouldBe(HttpStatusCode.OK);
        Assert.NotEqual(session.RefreshToken, (await response.JsonAsync()).GetProperty("refreshToken").GetString());
    }

    [Fact]
    public async Task Refresh_with_the_access_token_says_it_needs_the_refresh_token()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/refresh");
        request.Headers.Authorization = new("Bearer", session.AccessToken);
        using var response = await edge.SendAsync(request, Cancel);

        var detail = await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "refreshToken");
        Assert.Contains("That is an access token", detail);
    }

    [Fact]
    public async Task Refresh_token_reuse_revokes_the_family()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();
        using var first = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken }, Cancel);
        var rotated = (await first.JsonAsync()).GetProperty("refreshToken").GetString();

        using var reuse = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken }, Cancel);
        using var afterReuse = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = rotated }, Cancel);

        var problem = await reuse.ShouldBeProblem(HttpStatusCode.Unauthorized);
        Assert.Contains("already used", problem.GetProperty("detail").GetString());
        await afterReuse.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Reuse_in_one_session_leaves_other_sessions_working()
    {
        using var edge = identity.Edge();
        var email = NewEmail();
        var stolen = await edge.RegisterAsync(email);
        var other = await edge.LoginAsync(email);
        using var first = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = stolen.RefreshToken }, Cancel);
        using var reuse = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = stolen.RefreshToken }, Cancel);

        using var response = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = other.RefreshToken }, Cancel);

        await reuse.ShouldBe(HttpStatusCode.Unauthorized);
        await response.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("made-up-token")]
    [InlineData("")]
    public async Task An_unknown_or_missing_refresh_token_is_refused(string refreshToken)
    {
        using var edge = identity.Edge();

        using var response = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken }, Cancel);

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, response.StatusCode.ToString());
        await response.ShouldBeProblem(response.StatusCode);
    }

    [Theory]
    [InlineData("/api/auth/refresh", """{"refreshToken":123}""", "refreshToken", "The field 'refreshToken' must be a string.")]
    [InlineData("/api/auth/logout", """{"refreshToken":5}""", "refreshToken", "The field 'refreshToken' must be a string.")]
    [InlineData("/api/auth/refresh", """{"refreshToken":""", "body", "The request body is not valid JSON: it breaks off")]
    public async Task A_refresh_or_logout_body_that_cannot_be_read_says_which_field_and_why(string path, string body, string field, string reason)
    {
        using var edge = identity.Edge();

        using var response = await edge.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Cancel);

        Assert.StartsWith(reason, await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field));
    }

    [Fact]
    public async Task Logout_with_the_access_token_ends_the_session()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var logout = await edge.PostAsync("/api/auth/logout", session.AccessToken, null);
        using var refresh = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken }, Cancel);

        await logout.ShouldBe(HttpStatusCode.OK);
        Assert.True((await logout.JsonAsync()).GetProperty("success").GetBoolean());
        await refresh.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_with_the_refresh_token_in_the_body_ends_the_session()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();

        using var logout = await edge.PostAsync("/api/auth/logout", null, new { refreshToken = session.RefreshToken });
        using var refresh = await edge.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken }, Cancel);

        await logout.ShouldBe(HttpStatusCode.OK);
        await refresh.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_expired_access_token_is_refused_saying_so()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();
        var ring = identity.Identity.GetRequiredService<SigningKeyRing>();
        var expired = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "gateway-identity",
            Audience = "gateway",
            IssuedAt = DateTime.UtcNow.AddHours(-2),
            NotBefore = DateTime.UtcNow.AddHours(-2),
            Expires = DateTime.UtcNow.AddHours(-1),
            SigningCredentials = ring.Current,
            Claims = new Dictionary<string, object> { ["sub"] = session.UserId.ToString() },
        });

        using var response = await edge.GetAsync("/api/auth/me", expired);

        var problem = await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
        Assert.Contains("expired", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Access_tokens_verify_against_the_published_jwks_and_carry_the_claims()
    {
        using var edge = identity.Edge();
        var session = await edge.RegisterAsync();
        using var direct = identity.System[GatewayService.Identity].CreateHttpClient();

        var jwks = new JsonWebKeySet(await direct.GetStringAsync("/.well-known/jwks.json", Cancel));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(session.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = "gateway-identity",
            ValidAudience = "gateway",
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.All(jwks.Keys, key => Assert.False(key.HasPrivateKey));
        Assert.Equal(session.UserId.ToString(), result.Claims["sub"]);
        Assert.Equal(session.OrganizationId.ToString(), result.Claims["org"]);
        Assert.Equal("owner", result.Claims["role"]);
        Assert.Equal(session.User.GetProperty("email").GetString(), result.Claims["email"]);
        Assert.True(result.Claims.ContainsKey("jti"));
    }

    [Fact]
    public async Task The_signing_key_survives_a_restart_and_a_rotation_keeps_old_tokens_valid()
    {
        // The restart test owns its database: it stops its identity service and starts another on it.
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity],
            settings: new Dictionary<string, string?> { ["Identity:Tokens:KeyEncryptionKey"] = Convert.ToBase64String(new byte[32]) });
        using var edge = system.CreateEdgeClient();
        var session = await edge.RegisterAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:identitydb"] = system.Resources.Database("identitydb"),
            ["ConnectionStrings:rabbitmq"] = system.Resources.RabbitMq,
            ["ConnectionStrings:redis"] = system.Resources.Redis,
            ["OTEL_SERVICE_NAME"] = "identity",
            ["Identity:Tokens:KeyEncryptionKey"] = Convert.ToBase64String(new byte[32]),
            ["Gateway:CallerToken:Key"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        await system[GatewayService.Identity].DisposeAsync();

        await using var restarted = new ServiceHost<AccountsDbContext>(settings);
        restarted.Start();
        using var client = restarted.CreateHttpClient();
        var before = await ValidateAsync(client, session.AccessToken);
        await restarted.Provider.GetRequiredService<SigningKeyRing>().RotateAsync(Cancel);
        var afterRotation = await ValidateAsync(client, session.AccessToken);
        var login = await client.LoginAsync(session.User.GetProperty("email").GetString()!);
        var jwks = JsonDocument.Parse(await client.GetStringAsync("/.well-known/jwks.json", Cancel)).RootElement.GetProperty("keys");

        // The edge checks tokens exactly so: against the JWKS the (restarted) service publishes. The new key is
        // published at once and signs only once every replica can have loaded it (SigningKeyRulesTests).
        Assert.True(before.IsValid, before.Exception?.Message);
        Assert.True(afterRotation.IsValid, afterRotation.Exception?.Message);
        Assert.Equal(2, jwks.GetArrayLength());
        Assert.Equal(Header(session.AccessToken), Header(login.AccessToken));
    }

    // Issue 21: replicas starting together on an empty database make one first key, not one each (each replica
    // would sign with its own while the edge holds the JWKS of another).
    [Fact]
    public async Task Replicas_starting_together_on_an_empty_database_sign_with_one_key()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Identity]);
        var provider = system[GatewayService.Identity].Provider;
        using (var scope = provider.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<AccountsDbContext>().SigningKeys.ExecuteDeleteAsync(Cancel);
        }

        var replicas = Enumerable.Range(0, 4).Select(_ => ActivatorUtilities.CreateInstance<SigningKeyRing>(provider)).ToList();
        await Task.WhenAll(replicas.Select(ring => ring.RefreshAsync(Cancel)));

        using (var scope = provider.CreateScope())
        {
            Assert.Equal(1, await scope.ServiceProvider.GetRequiredService<AccountsDbContext>().SigningKeys.CountAsync(Cancel));
        }
        Assert.Single(replicas.Select(ring => ring.Current.Key.KeyId).Distinct());
    }

    private static async Task<TokenValidationResult> ValidateAsync(HttpClient identityService, string accessToken) =>
        await new JsonWebTokenHandler().ValidateTokenAsync(accessToken, new TokenValidationParameters
        {
            ValidIssuer = "gateway-identity",
            ValidAudience = "gateway",
            IssuerSigningKeys = new JsonWebKeySet(await identityService.GetStringAsync("/.well-known/jwks.json", Cancel)).GetSigningKeys(),
        });

    private static string Header(string jwt) => new JsonWebToken(jwt).Kid;
}
