using System.Security.Cryptography;
using Gateway.Edge.Authentication;

namespace Edge.Tests;

// The edge's pure helpers for API keys: no server.
public sealed class KeyCacheSealTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly DateTimeOffset Until = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
    private const string Name = "edge:apikey:abc123";

    [Fact]
    public void A_sealed_entry_opens_with_its_payload_and_time()
    {
        var sealedEntry = KeyCacheSeal.Seal(Key, Name, Until, """{"keyId":"k"}""");

        Assert.True(KeyCacheSeal.TryOpen(Key, Name, sealedEntry, out var payload, out var validUntil));
        Assert.Equal("""{"keyId":"k"}""", payload);
        Assert.Equal(Until, validUntil);
    }

    [Fact]
    public void An_entry_does_not_open_under_another_key_or_another_name()
    {
        var sealedEntry = KeyCacheSeal.Seal(Key, Name, Until, "-");

        Assert.False(KeyCacheSeal.TryOpen(RandomNumberGenerator.GetBytes(32), Name, sealedEntry, out _, out _));
        Assert.False(KeyCacheSeal.TryOpen(Key, "edge:apikey:other", sealedEntry, out _, out _));
    }

    [Fact]
    public void A_changed_payload_or_time_does_not_open()
    {
        var sealedEntry = KeyCacheSeal.Seal(Key, Name, Until, "payload");
        var mac = sealedEntry[..44];

        Assert.False(KeyCacheSeal.TryOpen(Key, Name, sealedEntry + "x", out _, out _));
        Assert.False(KeyCacheSeal.TryOpen(Key, Name, $"{mac}{Until.AddDays(1).ToUnixTimeMilliseconds()}.payload", out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("not a sealed entry at all, just text that is long enough")]
    public void Anything_not_written_by_an_edge_does_not_open(string stored) =>
        Assert.False(KeyCacheSeal.TryOpen(Key, Name, stored, out _, out _));

    [Fact]
    public void A_key_is_well_formed_with_the_prefix_and_40_to_128_safe_characters()
    {
        Assert.True(ApiKeyFormat.IsWellFormed("sk_live_" + new string('A', 32)));
        Assert.True(ApiKeyFormat.IsWellFormed("sk_live_" + new string('-', 60) + "_Zz09"));
        Assert.True(ApiKeyFormat.IsWellFormed("sk_live_" + new string('a', 120)));
        Assert.False(ApiKeyFormat.IsWellFormed("sk_live_" + new string('A', 31)));
        Assert.False(ApiKeyFormat.IsWellFormed("sk_live_" + new string('a', 121)));
        Assert.False(ApiKeyFormat.IsWellFormed("sk_test_" + new string('A', 32)));
        Assert.False(ApiKeyFormat.IsWellFormed("sk_live_" + new string('A', 31) + "+"));
        Assert.False(ApiKeyFormat.IsWellFormed("sk_live_" + new string('A', 31) + "="));
    }

    [Fact]
    public void A_key_is_looked_up_by_its_SHA256_in_lower_case_hex() =>
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", ApiKeyFormat.Hash("hello"));
}
