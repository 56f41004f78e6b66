using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gateway.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using static Keys.Tests.Api;

namespace Keys.Tests;

public sealed class ApiKeyTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task A_created_key_is_shown_in_full_once_and_listed_masked()
    {
        var user = await keys.RegisterUserAsync();

        var created = await user.CreateKeyAsync("deploy bot");
        var list = await user.ListKeysAsync();

        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith("sk_live_", key);
        Assert.Equal("sk_live_".Length + 43, key.Length);
        var masked = created.GetProperty("maskedKey").GetString()!;
        Assert.Equal($"{key[..12]}…{key[^4..]}", masked);
        var listed = Assert.Single(list);
        Assert.Equal(created.GetProperty("id").GetGuid(), listed.GetProperty("id").GetGuid());
        Assert.Equal("deploy bot", listed.GetProperty("name").GetString());
        Assert.Equal(masked, listed.GetProperty("maskedKey").GetString());
        Assert.Equal("active", listed.GetProperty("status").GetString());
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.DoesNotContain(key, listed.GetRawText());
    }

    [Fact]
    public async Task The_database_holds_the_hash_of_a_key_never_the_key()
    {
        var user = await keys.RegisterUserAsync();

        var created = await user.CreateKeyAsync();

        var key = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("id").GetGuid();
        var row = await keys.InDatabaseAsync(db => db.Database
            .SqlQuery<string>($"SELECT row_to_json(k)::text AS \"Value\" FROM api_keys k WHERE \"Id\" = {id}").SingleAsync(Ct));
        Assert.DoesNotContain(key, row);
        Assert.DoesNotContain(key["sk_live_".Length..], row);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), row);
    }

    [Fact]
    public async Task Two_keys_are_never_the_same()
    {
        var user = await keys.RegisterUserAsync();

        var first = await user.CreateKeyAsync();
        var second = await user.CreateKeyAsync();

        Assert.NotEqual(first.GetProperty("key").GetString(), second.GetProperty("key").GetString());
    }

    [Fact]
    public async Task A_revoked_key_is_listed_as_revoked_and_revoking_again_is_harmless()
    {
        var user = await keys.RegisterUserAsync();
        var id = (await user.CreateKeyAsync()).GetProperty("id").GetGuid();

        using var revoke = await user.Client.DeleteAsync($"/api/keys/{id}", Ct);
        using var again = await user.Client.DeleteAsync($"/api/keys/{id}", Ct);

        await revoke.ShouldBe(HttpStatusCode.NoContent);
        await again.ShouldBe(HttpStatusCode.NoContent);
        var listed = Assert.Single(await user.ListKeysAsync());
        Assert.Equal("revoked", listed.GetProperty("status").GetString());
        Assert.True(listed.GetProperty("revokedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Another_users_key_is_neither_listed_nor_revoked()
    {
        var owner = await keys.RegisterUserAsync();
        var stranger = await keys.RegisterUserAsync();
        var id = (await owner.CreateKeyAsync()).GetProperty("id").GetGuid();

        using var revoke = await stranger.Client.DeleteAsync($"/api/keys/{id}", Ct);
        var strangersList = await stranger.ListKeysAsync();

        await revoke.ShouldBe(HttpStatusCode.NotFound);
        Assert.Empty(strangersList);
        Assert.Equal("active", Assert.Single(await owner.ListKeysAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_unknown_key_id_is_404_and_a_malformed_one_names_the_id()
    {
        var user = await keys.RegisterUserAsync();

        using var unknown = await user.Client.DeleteAsync($"/api/keys/{Guid.NewGuid()}", Ct);
        using var malformed = await user.Client.DeleteAsync("/api/keys/not-a-guid", Ct);

        await unknown.ShouldBe(HttpStatusCode.NotFound);
        var problem = await malformed.ShouldBe(HttpStatusCode.BadRequest);
        Assert.Contains("id", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_active_key_limit_is_answered_in_words_and_a_revocation_frees_a_place()
    {
        var user = await keys.RegisterUserAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < KeysSystem.KeyLimit; i++)
        {
            ids.Add((await user.CreateKeyAsync($"key {i}")).GetProperty("id").GetGuid());
        }

        using var refused = await user.Client.PostAsJsonAsync("/api/keys", new { name = "one too many" }, Ct);
        var problem = await refused.ShouldBe(HttpStatusCode.Conflict);
        Assert.Equal($"API key limit reached: {KeysSystem.KeyLimit} of {KeysSystem.KeyLimit}. Revoke a key to create another.", problem.GetProperty("detail").GetString());

        (await user.Client.DeleteAsync($"/api/keys/{ids[0]}", Ct)).Dispose();
        await user.CreateKeyAsync("after revoking");
    }

    [Fact]
    public async Task Keys_created_at_once_never_pass_the_limit()
    {
        var user = await keys.RegisterUserAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => user.Client.PostAsJsonAsync("/api/keys", new { name = $"racer {i}" }, Ct)));

        Assert.Equal(KeysSystem.KeyLimit, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(KeysSystem.KeyLimit, (await user.ListKeysAsync()).Length);
    }

    [Fact]
    public async Task An_expired_key_is_listed_as_expired_and_does_not_count_toward_the_limit()
    {
        var user = await keys.RegisterUserAsync();
        var shortLived = (await user.CreateKeyAsync("short-lived", DateTimeOffset.UtcNow.AddDays(1))).GetProperty("id").GetGuid();
        // Its expiry moved into the past, as if a day had gone by.
        await keys.InDatabaseAsync(db => db.Database.ExecuteSqlAsync(
            $"UPDATE api_keys SET \"ExpiresAt\" = now() - interval '1 minute' WHERE \"Id\" = {shortLived}", Ct));

        for (var i = 0; i < KeysSystem.KeyLimit; i++)
        {
            await user.CreateKeyAsync($"key {i}");
        }

        var list = await user.ListKeysAsync();
        Assert.Equal("expired", list.Single(k => k.GetProperty("name").GetString() == "short-lived").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Active_keys_are_listed_before_expired_and_revoked_ones()
    {
        var user = await keys.RegisterUserAsync();
        var older = (await user.CreateKeyAsync("older active")).GetProperty("id").GetGuid();
        var expired = (await user.CreateKeyAsync("expired", DateTimeOffset.UtcNow.AddDays(1))).GetProperty("id").GetGuid();
        var revoked = (await user.CreateKeyAsync("revoked")).GetProperty("id").GetGuid();
        (await user.Client.DeleteAsync($"/api/keys/{revoked}", Ct)).Dispose();
        // Its expiry moved into the past, as if a day had gone by.
        await keys.InDatabaseAsync(db => db.Database.ExecuteSqlAsync(
            $"UPDATE api_keys SET \"ExpiresAt\" = now() - interval '1 minute' WHERE \"Id\" = {expired}", Ct));
        var newer = (await user.CreateKeyAsync("newer active")).GetProperty("id").GetGuid();

        var list = await user.ListKeysAsync();

        Assert.Equal([newer, older, expired, revoked], list.Select(k => k.GetProperty("id").GetGuid()));
        Assert.Equal(["active", "active", "expired", "revoked"], list.Select(k => k.GetProperty("status").GetString()));
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":"   "}""", "name")]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    public async Task Bad_input_is_a_400_naming_the_field(string body, string field)
    {
        var user = await keys.RegisterUserAsync();

        using var response = await user.Client.PostAsync("/api/keys", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field);
        Assert.Empty(await user.ListKeysAsync());
    }

    [Fact]
    public async Task A_name_over_100_characters_is_refused_and_a_timezone_offset_is_accepted()
    {
        var user = await keys.RegisterUserAsync();

        using var tooLong = await user.Client.PostAsJsonAsync("/api/keys", new { name = new string('n', 101) }, Ct);
        var created = await user.CreateKeyAsync(new string('n', 100), DateTimeOffset.UtcNow.AddDays(30).ToOffset(TimeSpan.FromHours(3)));

        Assert.Contains("100", await tooLong.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "name"));
        Assert.Equal(TimeSpan.Zero, created.GetProperty("expiresAt").GetDateTimeOffset().Offset);
    }

    [Fact]
    public async Task A_wrongly_typed_field_is_a_400_naming_it()
    {
        var user = await keys.RegisterUserAsync();

        using var response = await user.Client.PostAsync("/api/keys", new StringContent("""{"name":"x","expiresAt":"soon"}""", Encoding.UTF8, "application/json"), Ct);

        var problem = await response.ShouldBe(HttpStatusCode.BadRequest);
        Assert.Contains("expiresAt", problem.GetProperty("detail").GetString());
    }

    // In a caller's words, not .NET's type names ("could not be converted to Gateway.Keys.Apis.ApiKeysApi+…").
    [Theory]
    [InlineData("""{"name":123}""", "name", "The field 'name' must be a string.")]
    [InlineData("""{"name":"x","expiresAt":true}""", "expiresAt", "The field 'expiresAt' must be a date and time (ISO 8601, e.g. 2026-11-24T10:00:00Z).")]
    [InlineData("""[]""", "body", "The request body must be a JSON object.")]
    [InlineData("""{"name":"a","name":"b"}""", "name", "The field 'name' appears more than once; send it once.")]
    [InlineData("""{"name":"\ud800"}""", "name", "The field 'name' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.")]
    public async Task A_value_of_the_wrong_kind_is_named_with_what_it_must_be(string body, string field, string reason)
    {
        var user = await keys.RegisterUserAsync();

        using var response = await user.Client.PostAsync("/api/keys", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(reason, await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, field));
    }

    [Fact]
    public async Task A_request_straight_to_the_service_without_the_edge_is_401()
    {
        var user = await keys.RegisterUserAsync();
        using var direct = keys.Direct(caller: null);
        direct.DefaultRequestHeaders.Authorization = new("Bearer", user.AccessToken);

        using var response = await direct.GetAsync("/api/keys", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_api_key_caller_cannot_manage_keys()
    {
        var user = await keys.RegisterUserAsync();
        var keyId = (await user.CreateKeyAsync()).GetProperty("id").GetGuid();
        using var withKey = keys.Direct(new Caller(user.UserId, user.OrganizationId, null, null, CallerMethods.ApiKey, keyId));

        using var list = await withKey.GetAsync("/api/keys", Ct);
        using var create = await withKey.PostAsJsonAsync("/api/keys", new { name = "minted by a key" }, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Contains("API keys cannot do this", (await create.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Single(await user.ListKeysAsync());
    }
}
