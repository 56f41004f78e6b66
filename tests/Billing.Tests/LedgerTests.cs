using Gateway.Billing.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.Tests;

// The ledger's operations, called as the consumers and endpoints call them.
public sealed class LedgerTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private CreditLedger Ledger => billing.Ledger;
    private static CancellationToken Cancel => BillingSystem.Cancel;

    [Fact]
    public async Task The_same_transfer_id_sent_ten_times_at_once_is_applied_once()
    {
        var userId = Guid.NewGuid();
        var transferId = Guid.NewGuid();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Task.Run(() => Ledger.GrantAsync(transferId, userId, 40, "Welcome", cancellationToken: Cancel), Cancel)));

        Assert.Single(results, r => r.Outcome == TransferOutcome.Created);
        Assert.All(results, r => Assert.True(r.Applied, r.Outcome.ToString()));
        Assert.Equal(new WalletBalance(40, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task The_same_transfer_id_with_another_amount_is_a_conflict()
    {
        var userId = Guid.NewGuid();
        var transferId = Guid.NewGuid();
        await Ledger.GrantAsync(transferId, userId, 40, "Welcome", cancellationToken: Cancel);

        var again = await Ledger.GrantAsync(transferId, userId, 41, "Welcome", cancellationToken: Cancel);
        var elsewhere = await Ledger.GrantAsync(transferId, Guid.NewGuid(), 40, "Welcome", cancellationToken: Cancel);

        Assert.Equal(TransferOutcome.Conflict, again.Outcome);
        Assert.Equal(TransferOutcome.Conflict, elsewhere.Outcome);
        Assert.Equal(new WalletBalance(40, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_capture_charges_the_actual_amount_and_releases_the_rest()
    {
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        var hold = await Ledger.ReserveAsync(holdId, userId, 30, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        Assert.Equal(70, hold.Available);

        var capture = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, 12, "Usage", new Usage("gpt-test", 7, 5), Cancel);

        Assert.Equal(TransferOutcome.Created, capture.Outcome);
        Assert.Equal(12, capture.Amount);
        Assert.Equal(new WalletBalance(88, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task Capturing_twice_charges_once()
    {
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        await Ledger.ReserveAsync(holdId, userId, 30, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        var captureId = Guid.NewGuid();

        var results = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            Task.Run(() => Ledger.CaptureAsync(captureId, holdId, 20, "Usage", cancellationToken: Cancel), Cancel)));
        var another = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, 20, "Usage", cancellationToken: Cancel);

        Assert.Single(results, r => r.Outcome == TransferOutcome.Created);
        Assert.All(results, r => Assert.True(r.Applied));
        Assert.Equal(TransferOutcome.Resolved, another.Outcome);
        Assert.Equal(TransferKind.Capture, another.ResolvedBy);
        Assert.Equal(new WalletBalance(80, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task Holds_and_captures_of_many_wallets_at_once_are_each_applied_once()
    {
        var wallets = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => billing.NewWalletAsync(1_000)));

        // 200 pairs at once: the ledger commits them in batches that mix holds and captures of many wallets.
        var pairs = await Task.WhenAll(wallets.SelectMany(wallet => Enumerable.Range(1, 10).Select(charge => Task.Run(async () =>
        {
            var holdId = Guid.NewGuid();
            var hold = await Ledger.ReserveAsync(holdId, wallet, 50, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
            var capture = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, charge, "Usage", cancellationToken: Cancel);
            return (Hold: hold.Outcome, Capture: capture.Outcome, Charged: capture.Amount);
        }, Cancel))));

        Assert.All(pairs, pair => Assert.Equal((TransferOutcome.Created, TransferOutcome.Created), (pair.Hold, pair.Capture)));
        Assert.Equal(wallets.Length * 55, pairs.Sum(pair => pair.Charged));
        foreach (var wallet in wallets)
        {
            Assert.Equal(new WalletBalance(1_000 - 55, 0), await billing.BalanceAsync(wallet));
        }
    }

    [Fact]
    public async Task A_capture_after_its_hold_expired_is_still_charged_once_from_what_is_available()
    {
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        await Ledger.ReserveAsync(holdId, userId, 30, DateTimeOffset.UtcNow.AddSeconds(-1), "Chat", cancellationToken: Cancel);
        var usageId = Guid.NewGuid();

        // Expired by the capture itself, or by the sweeper (every 200 ms here) just before: charged either way.
        var capture = await Ledger.CaptureAsync(usageId, holdId, 10, "Usage", cancellationToken: Cancel);
        var redelivered = await Ledger.CaptureAsync(usageId, holdId, 10, "Usage", cancellationToken: Cancel);
        var secondUsage = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, 10, "Usage", cancellationToken: Cancel);

        Assert.Equal((TransferOutcome.Created, TransferKind.Capture, 10L), (capture.Outcome, capture.Kind, capture.Amount));
        Assert.Equal((TransferOutcome.Resolved, TransferKind.Capture), (redelivered.Outcome, redelivered.ResolvedBy));
        Assert.Equal((TransferOutcome.Resolved, TransferKind.Capture), (secondUsage.Outcome, secondUsage.ResolvedBy));
        Assert.Equal(new WalletBalance(90, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_late_capture_after_the_sweeper_released_its_hold_charges_no_more_than_is_available()
    {
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        await Ledger.ReserveAsync(holdId, userId, 30, DateTimeOffset.UtcNow.AddMilliseconds(300), "Chat", cancellationToken: Cancel);
        Assert.Equal(30, (await billing.BalanceAsync(userId)).Held);
        var after = await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 0);
        // Meanwhile the wallet was spent down to 25 available.
        var other = Guid.NewGuid();
        await Ledger.ReserveAsync(other, userId, 75, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        await Ledger.CaptureAsync(Guid.NewGuid(), other, 75, "Usage", cancellationToken: Cancel);

        var capture = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, 40, "Usage", cancellationToken: Cancel);

        Assert.Equal(new WalletBalance(100, 0), after);
        Assert.Equal((TransferOutcome.Created, 25L), (capture.Outcome, capture.Amount));
        Assert.Equal(new WalletBalance(0, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_capture_above_the_hold_charges_the_excess_only_from_what_is_available()
    {
        var userId = await billing.NewWalletAsync(50);
        var first = Guid.NewGuid();
        await Ledger.ReserveAsync(first, userId, 20, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        var covered = await Ledger.CaptureAsync(Guid.NewGuid(), first, 35, "Usage", cancellationToken: Cancel);
        Assert.Equal(35, covered.Amount);
        Assert.Equal(new WalletBalance(15, 0), await billing.BalanceAsync(userId));

        var second = Guid.NewGuid();
        await Ledger.ReserveAsync(second, userId, 10, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        var capped = await Ledger.CaptureAsync(Guid.NewGuid(), second, 70, "Usage", cancellationToken: Cancel);

        Assert.Equal(15, capped.Amount);
        Assert.Equal(new WalletBalance(0, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_release_returns_the_whole_hold_once()
    {
        var userId = await billing.NewWalletAsync(100);
        var holdId = Guid.NewGuid();
        await Ledger.ReserveAsync(holdId, userId, 60, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        var releaseId = Guid.NewGuid();

        var first = await Ledger.ReleaseAsync(releaseId, holdId, userId, "Cancelled", Cancel);
        var again = await Ledger.ReleaseAsync(releaseId, holdId, userId, "Cancelled", Cancel);
        var capture = await Ledger.CaptureAsync(Guid.NewGuid(), holdId, 10, "Usage", cancellationToken: Cancel);

        Assert.Equal(TransferOutcome.Created, first.Outcome);
        Assert.Equal(TransferOutcome.Exists, again.Outcome);
        Assert.Equal(TransferOutcome.Resolved, capture.Outcome);
        Assert.Equal(new WalletBalance(100, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_reservation_cannot_take_more_than_is_available()
    {
        var userId = await billing.NewWalletAsync(37);

        var result = await Ledger.ReserveAsync(Guid.NewGuid(), userId, 120, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);
        var stranger = await Ledger.ReserveAsync(Guid.NewGuid(), Guid.NewGuid(), 1, DateTimeOffset.UtcNow.AddMinutes(5), "Chat", cancellationToken: Cancel);

        Assert.Equal(TransferOutcome.Insufficient, result.Outcome);
        Assert.Equal(37, result.Available);
        Assert.Equal(TransferOutcome.Insufficient, stranger.Outcome);
        Assert.Equal(0, stranger.Available);
        Assert.Equal(new WalletBalance(37, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task Refunds_and_corrections_are_new_transfers_and_a_correction_cannot_overdraw()
    {
        var userId = await billing.NewWalletAsync(10);

        var refund = await Ledger.RefundAsync(Guid.NewGuid(), userId, 5, "Refund: failed answer", Cancel);
        var takeBack = await Ledger.CorrectAsync(Guid.NewGuid(), userId, -3, "Correction: double grant", Cancel);
        var tooMuch = await Ledger.CorrectAsync(Guid.NewGuid(), userId, -100, "Correction", Cancel);

        Assert.Equal(TransferOutcome.Created, refund.Outcome);
        Assert.Equal(TransferOutcome.Created, takeBack.Outcome);
        Assert.Equal(TransferOutcome.Insufficient, tooMuch.Outcome);
        Assert.Equal(12, tooMuch.Available);
        Assert.Equal(new WalletBalance(12, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task Transfers_cannot_be_edited_or_deleted()
    {
        var userId = await billing.NewWalletAsync(10);
        var database = billing.Billing.GetRequiredService<NpgsqlDataSource>();

        var edit = await Assert.ThrowsAsync<PostgresException>(() =>
            database.CreateCommand($"UPDATE transfers SET amount = 1000 WHERE wallet_id = '{userId}'").ExecuteNonQueryAsync(Cancel));
        var delete = await Assert.ThrowsAsync<PostgresException>(() =>
            database.CreateCommand($"DELETE FROM transfers WHERE wallet_id = '{userId}'").ExecuteNonQueryAsync(Cancel));

        Assert.Contains("append-only", edit.MessageText);
        Assert.Contains("append-only", delete.MessageText);
        Assert.Equal(new WalletBalance(10, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task The_audit_finds_a_wallet_whose_balance_does_not_match_its_entries()
    {
        var userId = await billing.NewWalletAsync(10);
        var database = billing.Billing.GetRequiredService<NpgsqlDataSource>();
        var audit = billing.Billing.GetRequiredService<LedgerAudit>();
        Assert.True((await audit.RunAsync(Cancel)).Balanced);

        await database.CreateCommand($"UPDATE accounts SET balance = balance + 5 WHERE id = '{userId}'").ExecuteNonQueryAsync(Cancel);
        var tampered = await audit.RunAsync(Cancel);
        await database.CreateCommand($"UPDATE accounts SET balance = balance - 5 WHERE id = '{userId}'").ExecuteNonQueryAsync(Cancel);

        Assert.False(tampered.Balanced);
        var wrong = Assert.Single(tampered.Discrepancies);
        Assert.Equal((userId, 15L, 10L), (wrong.AccountId, wrong.Balance, wrong.SumOfEntries));
        Assert.True((await audit.RunAsync(Cancel)).Balanced);
    }
}
