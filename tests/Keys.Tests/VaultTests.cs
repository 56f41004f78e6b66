using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gateway.Keys.Vault;
using Gateway.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static Keys.Tests.Api;

namespace Keys.Tests;

// The secrets vault (seed 002): encrypted at rest, write-only, unique names, size limits.
public sealed class VaultTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task A_stored_value_is_encrypted_at_rest_with_the_configured_key()
    {
        var user = await keys.RegisterUserAsync();
        const string value = "sk-proj-Th1sIsAV3ryS3cretValue";

        var created = await CreateAsync(user.Client, "OPENAI_API_KEY", value);

        var id = created.GetProperty("id").GetGuid();
        var row = await keys.InDatabaseAsync(db => db.VaultSecrets.AsNoTracking().SingleAsync(s => s.Id == id, Ct));
        var dump = await keys.InDatabaseAsync(db => db.Database
            .SqlQuery<string>($"SELECT row_to_json(s)::text AS \"Value\" FROM vault_secrets s WHERE \"Id\" = {id}").SingleAsync(Ct));
        Assert.DoesNotContain(value, dump);
        Assert.DoesNotContain(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(value)), dump);
        Assert.False(row.Ciphertext.AsSpan().IndexOf(Encoding.UTF8.GetBytes(value[..8])) >= 0);
        var cipher = new SecretCipher(Options.Create(new VaultOptions { EncryptionKey = keys.VaultKey }));
        Assert.Equal(value, cipher.Decrypt(row.Ciphertext, user.UserId, id));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => cipher.Decrypt(row.Ciphertext, Guid.NewGuid(), id));
    }

    [Fact]
    public async Task The_list_shows_names_and_never_a_value()
    {
        var user = await keys.RegisterUserAsync();
        var created = await CreateAsync(user.Client, "STRIPE_KEY", "rk_live_abcdefghijklmnop");

        using var response = await user.Client.GetAsync("/api/vault", Ct);

        var list = await response.ShouldBe(HttpStatusCode.OK);
        var item = Assert.Single(list.EnumerateArray());
        Assert.Equal("STRIPE_KEY", item.GetProperty("name").GetString());
        Assert.Equal("••••••••", item.GetProperty("maskedValue").GetString());
        Assert.DoesNotContain("rk_live", list.GetRawText());
        Assert.DoesNotContain("mnop", list.GetRawText());
        Assert.DoesNotContain("rk_live", created.GetRawText());
    }

    [Fact]
    public async Task A_second_secret_with_the_same_name_is_409_and_another_user_may_use_it()
    {
        var user = await keys.RegisterUserAsync();
        var other = await keys.RegisterUserAsync();
        await CreateAsync(user.Client, "TOKEN", "first");

        using var duplicate = await user.Client.PostAsJsonAsync("/api/vault", new { name = "TOKEN", value = "second" }, Ct);
        await CreateAsync(other.Client, "TOKEN", "theirs");

        Assert.Contains("TOKEN", await duplicate.ShouldBeProblemAbout(HttpStatusCode.Conflict, "name"));
    }

    [Fact]
    public async Task The_seed_dashboards_key_field_names_the_secret_and_a_differing_name_beside_it_is_a_400()
    {
        var user = await keys.RegisterUserAsync();

        using var response = await user.Client.PostAsJsonAsync("/api/vault", new { key = "ANTHROPIC_API_KEY", value = "sk-ant-123" }, Ct);

        var created = await response.ShouldBe(HttpStatusCode.Created);
        Assert.Equal("ANTHROPIC_API_KEY", created.GetProperty("name").GetString());

        // Both names, differing: which one was meant is not guessed.
        using var both = await user.Client.PostAsJsonAsync("/api/vault", new { key = "K3", name = "K4", value = "v" }, Ct);
        Assert.Equal("The fields 'name' and 'key' are one field (the secret's name) and differ; send one of them.",
            await both.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "name"));
    }

    [Fact]
    public async Task Values_up_to_4096_bytes_are_accepted_and_larger_ones_refused()
    {
        var user = await keys.RegisterUserAsync();

        await CreateAsync(user.Client, "FITS", new string('v', 4096));
        using var tooBig = await user.Client.PostAsJsonAsync("/api/vault", new { name = "TOO_BIG", value = new string('v', 4097) }, Ct);
        using var tooBigInUtf8 = await user.Client.PostAsJsonAsync("/api/vault", new { name = "TOO_BIG_UTF8", value = new string('é', 2049) }, Ct);
        using var longName = await user.Client.PostAsJsonAsync("/api/vault", new { name = new string('n', 101), value = "v" }, Ct);
        using var empty = await user.Client.PostAsJsonAsync("/api/vault", new { name = "EMPTY", value = "" }, Ct);

        Assert.Contains("4096", await tooBig.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "value"));
        Assert.Contains("4098", await tooBigInUtf8.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "value"));
        Assert.Contains("100", await longName.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "name"));
        await empty.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "value");
    }

    // Straight to the service: how the edge answers when a service refuses mid-upload is the edge's concern.
    [Fact]
    public async Task A_body_far_over_the_limit_is_refused_before_it_is_read()
    {
        var user = await keys.RegisterUserAsync();
        using var direct = keys.Direct(new Caller(user.UserId, user.OrganizationId, "owner", user.Email, CallerMethods.User));

        using var response = await direct.PostAsJsonAsync("/api/vault", new { name = "HUGE", value = new string('v', 1_000_000) }, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task The_vault_holds_at_most_the_configured_number_of_secrets()
    {
        var user = await keys.RegisterUserAsync();
        for (var i = 0; i < KeysSystem.SecretLimit; i++)
        {
            await CreateAsync(user.Client, $"S{i}", "v");
        }

        using var refused = await user.Client.PostAsJsonAsync("/api/vault", new { name = "ONE_MORE", value = "v" }, Ct);

        var problem = await refused.ShouldBe(HttpStatusCode.Conflict);
        Assert.StartsWith($"Vault limit reached: {KeysSystem.SecretLimit} of {KeysSystem.SecretLimit}", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_secret_is_deleted_by_path_or_query_and_another_users_is_404()
    {
        var user = await keys.RegisterUserAsync();
        var stranger = await keys.RegisterUserAsync();
        var byPath = (await CreateAsync(user.Client, "BY_PATH", "v")).GetProperty("id").GetGuid();
        var byQuery = (await CreateAsync(user.Client, "BY_QUERY", "v")).GetProperty("id").GetGuid();

        using var strangers = await stranger.Client.DeleteAsync($"/api/vault/{byPath}", Ct);
        using var strangersByQuery = await stranger.Client.DeleteAsync($"/api/vault?id={byQuery}", Ct);
        await strangers.ShouldBe(HttpStatusCode.NotFound);
        await strangersByQuery.ShouldBe(HttpStatusCode.NotFound);

        using var deleted = await user.Client.DeleteAsync($"/api/vault/{byPath}", Ct);
        using var deletedByQuery = await user.Client.DeleteAsync($"/api/vault?id={byQuery}", Ct);
        using var again = await user.Client.DeleteAsync($"/api/vault/{byPath}", Ct);
        using var missingId = await user.Client.DeleteAsync("/api/vault", Ct);

        await deleted.ShouldBe(HttpStatusCode.NoContent);
        await deletedByQuery.ShouldBe(HttpStatusCode.NoContent);
        await again.ShouldBe(HttpStatusCode.NotFound);
        await missingId.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "id");
        using var list = await user.Client.GetAsync("/api/vault", Ct);
        Assert.Empty((await list.ShouldBe(HttpStatusCode.OK)).EnumerateArray());
    }

    internal static async Task<System.Text.Json.JsonElement> CreateAsync(HttpClient client, string name, string value)
    {
        using var response = await client.PostAsJsonAsync("/api/vault", new { name, value }, Ct);
        return await response.ShouldBe(HttpStatusCode.Created);
    }
}

// POST /internal/vault/reveal: Chat, serving a caller's request, reads that caller's own provider key with the caller
// token it was given; only the caller's own secret, never for a service token, and not routed by the edge.
public sealed class VaultRevealTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task A_caller_token_reads_its_own_secret_by_name_and_nobody_elses()
    {
        var owner = await keys.RegisterUserAsync();
        var other = await keys.RegisterUserAsync();
        await VaultTests.CreateAsync(owner.Client, "OPENAI_API_KEY", "sk-own-key-123");
        using var asOwner = keys.Direct(new Caller(owner.UserId, owner.OrganizationId, null, null, CallerMethods.ApiKey, Guid.NewGuid()));
        using var asOther = keys.Direct(new Caller(other.UserId, other.OrganizationId, "owner", other.Email, CallerMethods.User));
        using var asService = keys.AsEdge();

        using var revealed = await asOwner.PostAsJsonAsync("/internal/vault/reveal", new { name = " OPENAI_API_KEY " }, Ct);
        using var otherUser = await asOther.PostAsJsonAsync("/internal/vault/reveal", new { name = "OPENAI_API_KEY" }, Ct);
        using var service = await asService.PostAsJsonAsync("/internal/vault/reveal", new { name = "OPENAI_API_KEY" }, Ct);
        using var unnamed = await asOwner.PostAsJsonAsync("/internal/vault/reveal", new { }, Ct);

        Assert.Equal("sk-own-key-123", (await revealed.ShouldBe(HttpStatusCode.OK)).GetProperty("value").GetString());
        Assert.Equal(HttpStatusCode.NotFound, otherUser.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, service.StatusCode);
        await unnamed.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "name");
    }
}
