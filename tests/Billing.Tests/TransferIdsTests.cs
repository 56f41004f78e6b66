using Gateway.Billing.Ledger;

namespace Billing.Tests;

// The ledger's pure parts: no server.
public sealed class TransferIdsTests
{
    [Fact]
    public void The_same_cause_always_names_the_same_transfer_and_another_cause_or_purpose_another()
    {
        var cause = Guid.NewGuid();

        Assert.Equal(TransferIds.For("grant", cause), TransferIds.For("grant", cause));
        Assert.Equal(TransferIds.For("grant", cause), TransferIds.For("grant", cause.ToString("N")));
        Assert.NotEqual(TransferIds.For("grant", cause), TransferIds.For("grant", Guid.NewGuid()));
        Assert.NotEqual(TransferIds.For("grant", cause), TransferIds.For("release", cause));
    }

    [Fact]
    public void A_transfer_id_is_a_version_8_RFC_9562_uuid()
    {
        var id = TransferIds.For("checkout", "cs_test_123");

        Assert.Equal(8, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }

    [Fact]
    public void A_transfer_id_is_stable_across_releases() =>
        // Ids already in ledgers: a change to the derivation would grant or charge the same cause a second time.
        Assert.Equal(new Guid("aa3e26b1-0d45-88be-b5d6-3961b184355b"), TransferIds.For("grant", "cause"));

    [Theory]
    [InlineData(100, 0, 100)]
    [InlineData(100, 30, 70)]
    [InlineData(30, 30, 0)]
    public void What_is_available_is_the_balance_less_what_is_held(long balance, long held, long available) =>
        Assert.Equal(available, new Account { Balance = balance, Held = held }.Available);
}
