using System.Net;
using System.Text.Json;
using static Keys.Tests.Api;

namespace Keys.Tests;

// GET /api/user/api-key (seed 004): the default key, created by the first call and shown in full only then.
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
        Assert.Equal(first.GetProperty("maskedKey").GetString(), second.GetProperty("apiKey").GetString());
        Assert.DoesNotContain(key, second.GetRawText());
        var listed = Assert.Single(await user.ListKeysAsync());
        Assert.True(listed.GetProperty("isDefault").GetBoolean());
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
