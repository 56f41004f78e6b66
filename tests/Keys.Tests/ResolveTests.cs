using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gateway.Keys.ApiKeys;
using Gateway.ServiceDefaults;
using static Keys.Tests.Api;

namespace Keys.Tests;

// POST /internal/api-keys/resolve: the edge's lookup of a presented key by its hash.
public sealed class ResolveTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task An_active_key_resolves_to_its_owner_for_the_edge()
    {
        var user = await keys.RegisterUserAsync();
        var created = await user.CreateKeyAsync(expiresAt: DateTimeOffset.UtcNow.AddDays(1));
        using var edge = keys.AsEdge();

        using var response = await edge.PostAsJsonAsync("/internal/api-keys/resolve", new { hash = Hash(created.GetProperty("key").GetString()!) }, Ct);

        var resolved = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(created.GetProperty("id").GetGuid(), resolved.GetProperty("keyId").GetGuid());
        Assert.Equal(user.UserId, resolved.GetProperty("userId").GetGuid());
        Assert.Equal(user.OrganizationId, resolved.GetProperty("organizationId").GetGuid());
        Assert.Equal(created.GetProperty("expiresAt").GetDateTimeOffset(), resolved.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Revoked_expired_and_unknown_keys_are_all_404()
    {
        var user = await keys.RegisterUserAsync();
        var revoked = await user.CreateKeyAsync("revoked");
        (await user.Client.DeleteAsync($"/api/keys/{revoked.GetProperty("id").GetGuid()}", Ct)).Dispose();
        var (expired, expiredSecret) = ApiKey.Issue(user.UserId, null, "expired", DateTimeOffset.UtcNow.AddHours(-1), false, DateTimeOffset.UtcNow.AddHours(-2));
        await keys.InDatabaseAsync(db => { db.ApiKeys.Add(expired); return db.SaveChangesAsync(Ct); });
        using var edge = keys.AsEdge();

        foreach (var key in new[] { revoked.GetProperty("key").GetString()!, expiredSecret, ApiKeySecret.Generate() })
        {
            using var response = await edge.PostAsJsonAsync("/internal/api-keys/resolve", new { hash = Hash(key) }, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"hash":"abc"}""")]
    [InlineData("""{"hash":"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}""")]
    public async Task A_malformed_hash_is_a_400_naming_it(string body)
    {
        using var edge = keys.AsEdge();

        using var response = await edge.PostAsync("/internal/api-keys/resolve", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "hash");
    }

    [Fact]
    public async Task A_user_or_api_key_caller_is_refused_and_no_caller_is_401()
    {
        var user = await keys.RegisterUserAsync();
        var created = await user.CreateKeyAsync();
        var body = new { hash = Hash(created.GetProperty("key").GetString()!) };
        using var asUser = keys.Direct(new Caller(user.UserId, user.OrganizationId, "owner", user.Email, CallerMethods.User));
        using var asKey = keys.Direct(new Caller(user.UserId, user.OrganizationId, null, null, CallerMethods.ApiKey, created.GetProperty("id").GetGuid()));
        using var anonymous = keys.Direct(caller: null);

        using var userResponse = await asUser.PostAsJsonAsync("/internal/api-keys/resolve", body, Ct);
        using var keyResponse = await asKey.PostAsJsonAsync("/internal/api-keys/resolve", body, Ct);
        using var anonymousResponse = await anonymous.PostAsJsonAsync("/internal/api-keys/resolve", body, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, userResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, keyResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousResponse.StatusCode);
    }

    [Fact]
    public async Task The_edge_does_not_route_the_internal_endpoint()
    {
        var user = await keys.RegisterUserAsync();
        var created = await user.CreateKeyAsync();

        using var response = await user.Client.PostAsJsonAsync("/internal/api-keys/resolve", new { hash = Hash(created.GetProperty("key").GetString()!) }, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(user.UserId.ToString(), await response.Content.ReadAsStringAsync(Ct));
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
