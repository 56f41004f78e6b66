using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Gateway.Contracts;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keys.Tests.Api;

namespace Keys.Tests;

// What Keys tells the rest of the system (ApiKeyRevoked) and what it learns from it (UserDeleted, ApiKeysUsed).
public sealed class RevocationTests(KeysSystem keys) : IClassFixture<KeysSystem>
{
    [Fact]
    public async Task Revoking_a_key_publishes_ApiKeyRevoked_with_its_hash_once()
    {
        var revocations = await ListenAsync<ApiKeyRevoked>();
        var user = await keys.RegisterUserAsync();
        var created = await user.CreateKeyAsync();
        var id = created.GetProperty("id").GetGuid();

        var later = (await user.CreateKeyAsync("revoked later")).GetProperty("id").GetGuid();

        (await user.Client.DeleteAsync($"/api/keys/{id}", Ct)).Dispose();
        (await user.Client.DeleteAsync($"/api/keys/{id}", Ct)).Dispose();
        (await user.Client.DeleteAsync($"/api/keys/{later}", Ct)).Dispose();

        var revoked = await NextAsync(revocations, r => r.KeyId == id);
        Assert.Equal(user.UserId, revoked.UserId);
        Assert.Equal(Hash(created.GetProperty("key").GetString()!), revoked.KeyHash);
        // The outbox publishes in commit order and the listener takes one message at a time, so a second
        // ApiKeyRevoked for the first key would arrive before the later key's.
        var between = new List<ApiKeyRevoked>();
        await NextAsync(revocations, r => r.KeyId == later, between);
        Assert.DoesNotContain(between, r => r.KeyId == id);
    }

    [Fact]
    public async Task A_deleted_users_keys_are_revoked_and_their_vault_erased()
    {
        var revocations = await ListenAsync<ApiKeyRevoked>();
        var user = await keys.RegisterUserAsync();
        var first = (await user.CreateKeyAsync("one")).GetProperty("id").GetGuid();
        var second = (await user.CreateKeyAsync("two")).GetProperty("id").GetGuid();
        (await user.Client.PostAsync("/api/vault", JsonContent.Create(new { name = "GITHUB_TOKEN", value = "ghp_secret" }), Ct)).Dispose();

        await keys.PublishAsync(new UserDeleted(user.UserId, user.OrganizationId, DateTimeOffset.UtcNow));

        var revoked = new[] { await NextAsync(revocations, r => r.UserId == user.UserId), await NextAsync(revocations, r => r.UserId == user.UserId) };
        Assert.Equal(new[] { first, second }.Order(), revoked.Select(r => r.KeyId).Order());
        var secrets = await Eventually.UntilAsync(
            () => keys.InDatabaseAsync(db => db.VaultSecrets.CountAsync(s => s.UserId == user.UserId, Ct)), count => count == 0);
        Assert.Equal(0, secrets);
        Assert.All(await user.ListKeysAsync(), k => Assert.Equal("revoked", k.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Reported_key_use_moves_lastUsedAt_forward_only()
    {
        var user = await keys.RegisterUserAsync();
        var id = (await user.CreateKeyAsync()).GetProperty("id").GetGuid();
        var used = DateTimeOffset.UtcNow.AddMinutes(-1);

        await keys.PublishAsync(new ApiKeysUsed([new ApiKeyUse(id, used.AddSeconds(-30)), new ApiKeyUse(id, used), new ApiKeyUse(Guid.NewGuid(), used)]));
        var lastUsed = await Eventually.UntilAsync(() => LastUsedAsync(user, id), at => at is not null);
        await keys.PublishAsync(new ApiKeysUsed([new ApiKeyUse(id, used.AddMinutes(-5))]));
        var later = DateTimeOffset.UtcNow;
        await keys.PublishAsync(new ApiKeysUsed([new ApiKeyUse(id, later)]));
        var latest = await Eventually.UntilAsync(() => LastUsedAsync(user, id), at => at != lastUsed);

        Assert.Equal(used.ToUnixTimeMilliseconds(), lastUsed!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(later.ToUnixTimeMilliseconds(), latest!.Value.ToUnixTimeMilliseconds());
    }

    private static async Task<DateTimeOffset?> LastUsedAsync(Gateway.Testing.TestUser user, Guid id)
    {
        var key = (await user.ListKeysAsync()).Single(k => k.GetProperty("id").GetGuid() == id);
        return key.GetProperty("lastUsedAt").ValueKind == System.Text.Json.JsonValueKind.Null ? null : key.GetProperty("lastUsedAt").GetDateTimeOffset();
    }

    // A queue of our own on the Keys service's broker, as an edge replica would have.
    private async Task<ChannelReader<T>> ListenAsync<T>() where T : class
    {
        var received = Channel.CreateUnbounded<T>();
        var bus = keys.Keys.GetRequiredService<IBus>();
        var handle = bus.ConnectReceiveEndpoint($"keys-tests-{typeof(T).Name}-{Guid.NewGuid():N}", endpoint =>
        {
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.AutoDelete = true;
                rabbit.Durable = false;
            }
            endpoint.ConcurrentMessageLimit = 1; // in the order published
            endpoint.Handler<T>(context => received.Writer.WriteAsync(context.Message).AsTask());
        });
        await handle.Ready.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return received.Reader;
    }

    // The first message that matches; the ones read past on the way go to skipped.
    private static async Task<T> NextAsync<T>(ChannelReader<T> reader, Func<T, bool> match, List<T>? skipped = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var message = await reader.ReadAsync(timeout.Token);
            if (match(message))
            {
                return message;
            }
            skipped?.Add(message);
        }
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
