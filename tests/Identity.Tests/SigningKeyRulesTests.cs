using Gateway.Identity.Tokens;

namespace Identity.Tests;

// Which key signs and which are published, on their own: no server.
public sealed class SigningKeyRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    private static SigningKey Key(string id, TimeSpan age) => new() { Id = id, PrivateKey = [], CreatedAt = Now - age };

    [Fact]
    public void The_first_key_signs_at_once()
    {
        var (signer, published) = SigningKeyRing.Choose([Key("first", TimeSpan.FromSeconds(1))], Now, Lifetime);

        Assert.Equal("first", signer.Id);
        Assert.Equal(["first"], published.Select(k => k.Id));
    }

    [Fact]
    public void A_new_key_is_published_ahead_and_signs_only_once_every_replica_can_have_it()
    {
        var old = Key("old", TimeSpan.FromDays(30));

        var (early, earlyPublished) = SigningKeyRing.Choose([Key("next", SigningKeyRing.PublishAhead - TimeSpan.FromSeconds(1)), old], Now, Lifetime);
        var (due, duePublished) = SigningKeyRing.Choose([Key("next", SigningKeyRing.PublishAhead), old], Now, Lifetime);

        Assert.Equal("old", early.Id);
        Assert.Equal(["next", "old"], earlyPublished.Select(k => k.Id));
        Assert.Equal("next", due.Id);
        Assert.Equal(["next", "old"], duePublished.Select(k => k.Id)); // the old key's tokens still live
    }

    [Fact]
    public void A_retired_key_stays_published_while_its_tokens_can_live_and_then_goes()
    {
        // "next" took over PublishAhead after it was made; "old"'s last tokens live Lifetime (+ 5 min for clocks) beyond.
        var justAlive = SigningKeyRing.PublishAhead + Lifetime + TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1);
        var (_, kept) = SigningKeyRing.Choose([Key("next", justAlive), Key("old", TimeSpan.FromDays(30))], Now, Lifetime);
        var (_, dropped) = SigningKeyRing.Choose([Key("next", justAlive + TimeSpan.FromSeconds(2)), Key("old", TimeSpan.FromDays(30))], Now, Lifetime);

        Assert.Equal(["next", "old"], kept.Select(k => k.Id));
        Assert.Equal(["next"], dropped.Select(k => k.Id));
    }
}
