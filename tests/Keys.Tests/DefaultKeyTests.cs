using System.Net;
using System.Text.Json;
using static Keys.Tests.Api;

namespace Keys.Tests;

// GET and POST /api/user/api-key (seed 004): the default key, created by the first call and shown in full only then.
public sealed class DefaultKeyTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task The_default_key_is_shown_in_full_on_the_first_call_only()
    {
        var user = await keys.RegisterUserAsync();

        var first = await GetDefaultAsync(user.Client);
        var second = await GetDefaultAsync(user.Client);

        Assert.True(first.GetProperty("isNew").GetBoolean());
        var key = first.GetProperty("apiKey").GetString()!;
        Assert.StartsWith("sk_live_", key);
        Assert.False(second.GetProperty("isNew").GetBoolean());
        Assert.Equal(first.GetProperty("id").GetGuid(), second.GetProperty("id").GetGuid());
        Assert.Equal(first.GetProperty("maskedKey").GetString(), second.GetProperty("maskedKey").GetString());
        Assert.DoesNotContain(key, second.GetRawText());
        var listed = Assert.Single(await user.ListKeysAsync());
        Assert.True(listed.GetProperty("isDefault").GetBoolean());
    }

    [Fact]
    public async Task A_later_call_has_no_usable_key_and_says_why_in_words()
    {
        var user = await keys.RegisterUserAsync();

        var first = await GetDefaultAsync(user.Client);
        var later = await GetDefaultAsync(user.Client);

        Assert.Equal(JsonValueKind.Null, later.GetProperty("apiKey").ValueKind);
        Assert.Equal(JsonValueKind.Null, later.GetProperty("api_key").ValueKind);
        Assert.Contains("cannot be shown again", later.GetProperty("note").GetString());
        Assert.Contains(first.GetProperty("maskedKey").GetString()!, later.GetProperty("note").GetString());
        Assert.Contains("copy it now", first.GetProperty("note").GetString());
    }

    [Fact]
    public async Task Seed_004s_names_carry_the_same_key()
    {
        var user = await keys.RegisterUserAsync();

        var first = await GetDefaultAsync(user.Client);
        var later = await GetDefaultAsync(user.Client);

        Assert.Equal(first.GetProperty("apiKey").GetString(), first.GetProperty("api_key").GetString());
        Assert.True(first.GetProperty("is_new").GetBoolean());
        Assert.False(later.GetProperty("is_new").GetBoolean());
    }

    [Fact]
    public async Task Post_creates_the_default_key_the_first_time_and_get_returns_the_same_key()
    {
        var user = await keys.RegisterUserAsync();

        using var created = await user.Client.PostAsync("/api/user/api-key", null, Ct);
        var first = await created.ShouldBe(HttpStatusCode.Created);
        var got = await GetDefaultAsync(user.Client);
        using var again = await user.Client.PostAsync("/api/user/api-key", null, Ct);
        var second = await again.ShouldBe(HttpStatusCode.OK);

        var id = first.GetProperty("id").GetGuid();
        Assert.StartsWith("sk_live_", first.GetProperty("apiKey").GetString());
        Assert.True(first.GetProperty("isNew").GetBoolean());
        Assert.Equal($"/api/keys/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal(id, got.GetProperty("id").GetGuid());
        Assert.Equal(id, second.GetProperty("id").GetGuid());
        Assert.False(got.GetProperty("isNew").GetBoolean());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("apiKey").ValueKind);
        Assert.Single(await user.ListKeysAsync());
    }

    [Fact]
    public async Task The_default_key_issued_by_post_authenticates_at_the_edge()
    {
        var user = await keys.RegisterUserAsync();
        using var created = await user.Client.PostAsync("/api/user/api-key", null, Ct);
        var key = (await created.ShouldBe(HttpStatusCode.Created)).GetProperty("apiKey").GetString()!;

        using var withKey = keys.System.CreateEdgeClient();
        withKey.DefaultRequestHeaders.Add("x-api-key", key);
        using var me = await withKey.GetAsync("/api/auth/me", Ct);

        Assert.Equal(user.UserId, (await me.ShouldBe(HttpStatusCode.OK)).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task An_api_key_cannot_get_or_create_the_default_key()
    {
        var user = await keys.RegisterUserAsync();
        var key = (await GetDefaultAsync(user.Client)).GetProperty("apiKey").GetString()!;
        using var withKey = keys.System.CreateEdgeClient();
        withKey.DefaultRequestHeaders.Add("x-api-key", key);

        using var get = await withKey.GetAsync("/api/user/api-key", Ct);
        using var post = await withKey.PostAsync("/api/user/api-key", null, Ct);

        await get.ShouldBe(HttpStatusCode.Forbidden);
        await post.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Concurrent_first_calls_create_one_default_key()
    {
        var user = await keys.RegisterUserAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GetDefaultAsync(user.Client)));

        Assert.Single(answers, a => a.GetProperty("isNew").GetBoolean());
        Assert.Single(answers.Select(a => a.GetProperty("id").GetGuid()).Distinct());
        Assert.Single(await user.ListKeysAsync());
    }

    [Fact]
    public async Task Revoking_the_default_key_makes_the_next_call_issue_a_new_one()
    {
        var user = await keys.RegisterUserAsync();
        var first = await GetDefaultAsync(user.Client);

        (await user.Client.DeleteAsync($"/api/keys/{first.GetProperty("id").GetGuid()}", Ct)).Dispose();
        var next = await GetDefaultAsync(user.Client);

        Assert.True(next.GetProperty("isNew").GetBoolean());
        Assert.NotEqual(first.GetProperty("id").GetGuid(), next.GetProperty("id").GetGuid());
        Assert.NotEqual(first.GetProperty("apiKey").GetString(), next.GetProperty("apiKey").GetString());
    }

    [Fact]
    public async Task The_default_key_counts_toward_the_limit()
    {
        var user = await keys.RegisterUserAsync();
        for (var i = 0; i < KeysSystem.KeyLimit; i++)
        {
            await user.CreateKeyAsync($"key {i}");
        }

        using var response = await user.Client.GetAsync("/api/user/api-key", Ct);

        var problem = await response.ShouldBe(HttpStatusCode.Conflict);
        Assert.StartsWith($"API key limit reached: {KeysSystem.KeyLimit} of {KeysSystem.KeyLimit}", problem.GetProperty("detail").GetString());
    }

    private static async Task<JsonElement> GetDefaultAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/user/api-key", Ct);
        return await response.ShouldBe(HttpStatusCode.OK);
    }
}
