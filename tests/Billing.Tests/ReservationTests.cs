using Gateway.Billing.Ledger;
using Gateway.Contracts;
using MassTransit;

namespace Billing.Tests;

// Chat's side of the ledger, over RabbitMQ: reserve (request/response), capture on usage, release on
// cancellation; every message may arrive twice.
public sealed class ReservationTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private static CancellationToken Cancel => BillingSystem.Cancel;

    [Fact]
    public async Task Five_hundred_concurrent_reservations_of_one_credit_against_a_wallet_of_one_hundred_hold_exactly_one_hundred()
    {
        var userId = await billing.NewWalletAsync(100);

        var answers = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => billing.ReserveAsync(userId, 1)));

        var reserved = answers.Count(a => a.Is(out Response<CreditsReserved>? _));
        var refused = answers.Select(a => a.Is(out Response<CreditsInsufficient>? r) ? r.Message : null).OfType<CreditsInsufficient>().ToList();
        Assert.Equal(100, reserved);
        Assert.Equal(400, refused.Count);
        Assert.All(refused, r => Assert.Equal("Required: 1, Available: 0", $"Required: {r.Required}, Available: {r.Available}"));
        var wallet = await billing.BalanceAsync(userId);
        Assert.Equal(new WalletBalance(100, 100), wallet);
        Assert.Equal(0, wallet.Available);
    }

    [Fact]
    public async Task A_reservation_sent_ten_times_at_once_holds_once_and_every_answer_is_the_same()
    {
        var userId = await billing.NewWalletAsync(100);
        var reservationId = Guid.NewGuid();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => billing.ReserveAsync(userId, 30, reservationId)));

        Assert.All(answers, a => Assert.True(a.Is(out Response<CreditsReserved>? r) && r.Message.Amount == 30));
        Assert.Equal(new WalletBalance(100, 30), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_reservation_larger_than_the_balance_says_what_was_required_and_what_was_available()
    {
        var userId = await billing.NewWalletAsync(37);

        var answer = await billing.ReserveAsync(userId, 120);

        Assert.True(answer.Is(out Response<CreditsInsufficient>? refused));
        Assert.Equal((120L, 37L), (refused.Message.Required, refused.Message.Available));
        Assert.Equal(new WalletBalance(37, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task An_invalid_reservation_is_answered_with_a_fault_and_holds_nothing()
    {
        var userId = await billing.NewWalletAsync(50);

        await Assert.ThrowsAsync<RequestFaultException>(() => billing.ReserveAsync(userId, 0));
        await Assert.ThrowsAsync<RequestFaultException>(() => billing.ReserveAsync(userId, 10, holdFor: TimeSpan.FromDays(2)));

        Assert.Equal(new WalletBalance(50, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_batch_of_holds_is_answered_hold_by_hold_and_holds_only_what_the_wallet_has()
    {
        var userId = await billing.NewWalletAsync(100);
        var holds = Enumerable.Range(0, 4).Select(_ => new ReserveCredits(Guid.NewGuid(), userId, 30, "Standby hold", TimeSpan.FromMinutes(5))).ToList();
        var client = billing.Bus.CreateRequestClient<ReserveCreditsBatch>(RequestTimeout.After(s: 30));

        var answer = (await client.GetResponse<CreditsReservedBatch>(new ReserveCreditsBatch(holds), Cancel)).Message;

        // Three holds of 30 fit in 100; the fourth is refused with what was left, as if asked alone.
        Assert.Equal(3, answer.Reserved.Count);
        Assert.All(answer.Reserved, r => Assert.Equal((userId, 30L), (r.UserId, r.Amount)));
        var refused = Assert.Single(answer.Insufficient);
        Assert.Equal((30L, 10L), (refused.Required, refused.Available));
        Assert.Equal(holds.Select(h => h.ReservationId).Order(), answer.Reserved.Select(r => r.ReservationId).Append(refused.ReservationId).Order());
        Assert.Equal(new WalletBalance(100, 90), await billing.BalanceAsync(userId));

        // Each is an ordinary hold: captured on its own.
        var captured = answer.Reserved[0];
        await billing.Bus.Publish(new UsageRecorded(Guid.NewGuid(), captured.ReservationId, userId, 12, 4, 8, "gpt-test", DateTimeOffset.UtcNow), Cancel);
        Assert.Equal(new WalletBalance(88, 60), await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 60));
    }

    [Fact]
    public async Task A_batch_with_an_invalid_hold_or_too_many_is_answered_with_a_fault_and_holds_nothing()
    {
        var userId = await billing.NewWalletAsync(50);
        var client = billing.Bus.CreateRequestClient<ReserveCreditsBatch>(RequestTimeout.After(s: 30));
        ReserveCredits Hold(long amount) => new(Guid.NewGuid(), userId, amount, "Standby hold", TimeSpan.FromMinutes(5));

        await Assert.ThrowsAsync<RequestFaultException>(() => client.GetResponse<CreditsReservedBatch>(new ReserveCreditsBatch([Hold(10), Hold(0)]), Cancel));
        await Assert.ThrowsAsync<RequestFaultException>(() => client.GetResponse<CreditsReservedBatch>(new ReserveCreditsBatch([]), Cancel));
        await Assert.ThrowsAsync<RequestFaultException>(() => client.GetResponse<CreditsReservedBatch>(
            new ReserveCreditsBatch(Enumerable.Range(0, ReserveCreditsBatch.MaxHolds + 1).Select(_ => Hold(1)).ToList()), Cancel));

        Assert.Equal(new WalletBalance(50, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_redelivered_usage_charges_once()
    {
        var userId = await billing.NewWalletAsync(100);
        var reservationId = Guid.NewGuid();
        await billing.ReserveAsync(userId, 40, reservationId);
        var usage = new UsageRecorded(Guid.NewGuid(), reservationId, userId, 25, 10, 15, "gpt-test", DateTimeOffset.UtcNow);
        using var consumed = Consumed.Watch(billing.Bus);

        await billing.Bus.Publish(usage, Cancel);
        await billing.Bus.Publish(usage, Cancel);
        await billing.Bus.Publish(usage with { UsageId = Guid.NewGuid() }, Cancel);
        var charged = await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 0);
        Assert.Equal(3, await consumed.CountAsync<UsageRecorded>(u => u.ReservationId == reservationId, 3));

        Assert.Equal(new WalletBalance(75, 0), charged);
        Assert.Equal(new WalletBalance(75, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_usage_that_grew_through_several_holds_charges_each_its_share_once()
    {
        var userId = await billing.NewWalletAsync(100);
        var (first, second, third) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await billing.ReserveAsync(userId, 30, first);
        await billing.ReserveAsync(userId, 20, second);
        await billing.ReserveAsync(userId, 40, third);
        var usage = new UsageRecorded(Guid.NewGuid(), first, userId, 45, 10, 35, "gpt-test", DateTimeOffset.UtcNow,
            [new HoldCharge(second, 15), new HoldCharge(third, 0)]);
        using var consumed = Consumed.Watch(billing.Bus);

        await billing.Bus.Publish(usage, Cancel);
        await billing.Bus.Publish(usage, Cancel);
        var charged = await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 0);
        Assert.Equal(2, await consumed.CountAsync<UsageRecorded>(u => u.ReservationId == first, 2));

        Assert.Equal(new WalletBalance(55, 0), charged);
        Assert.Equal(new WalletBalance(55, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_cancelled_reservation_gives_its_credits_back_once()
    {
        var userId = await billing.NewWalletAsync(100);
        var reservationId = Guid.NewGuid();
        await billing.ReserveAsync(userId, 40, reservationId);
        var cancelled = new ReservationCancelled(reservationId, userId, "Upstream refused", DateTimeOffset.UtcNow);
        using var consumed = Consumed.Watch(billing.Bus);

        await billing.Bus.Publish(cancelled, Cancel);
        await billing.Bus.Publish(cancelled, Cancel);
        var released = await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 0);
        await billing.Bus.Publish(new UsageRecorded(Guid.NewGuid(), reservationId, userId, 25, 10, 15, "gpt-test", DateTimeOffset.UtcNow), Cancel);
        Assert.Equal(2, await consumed.CountAsync<ReservationCancelled>(c => c.ReservationId == reservationId, 2));
        Assert.Equal(1, await consumed.CountAsync<UsageRecorded>(u => u.ReservationId == reservationId, 1));

        Assert.Equal(new WalletBalance(100, 0), released);
        Assert.Equal(new WalletBalance(100, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_reservation_cancelled_before_it_reaches_billing_is_never_made()
    {
        var userId = await billing.NewWalletAsync(100);
        var reservationId = Guid.NewGuid();

        // The requester gave up first, and its cancellation overtook the request.
        var cancelled = await billing.Ledger.ReleaseAsync(TransferIds.For("release", reservationId), reservationId, userId, "Billing did not answer in time", Cancel);
        await Assert.ThrowsAsync<RequestTimeoutException>(() => billing.ReserveAsync(userId, 40, reservationId, timeout: TimeSpan.FromSeconds(2)));

        Assert.Equal(TransferOutcome.NoHold, cancelled.Outcome);
        Assert.Equal(new WalletBalance(100, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task A_batch_of_several_requesters_holds_answers_the_others_when_one_was_cancelled_before_it_was_made()
    {
        var gone = await billing.NewWalletAsync(100);
        var waiting = await billing.NewWalletAsync(100);
        var goneHold = new ReserveCredits(Guid.NewGuid(), gone, 40, "Chat request", TimeSpan.FromMinutes(5));
        var waitingHold = new ReserveCredits(Guid.NewGuid(), waiting, 30, "Chat request", TimeSpan.FromMinutes(5));
        await billing.Ledger.ReleaseAsync(TransferIds.For("release", goneHold.ReservationId), goneHold.ReservationId, gone, "No longer needed", Cancel);
        var client = billing.Bus.CreateRequestClient<ReserveCreditsBatch>(RequestTimeout.After(s: 30));

        var answer = (await client.GetResponse<CreditsReservedBatch>(new ReserveCreditsBatch([goneHold, waitingHold]), Cancel)).Message;

        var reserved = Assert.Single(answer.Reserved);
        Assert.Equal((waitingHold.ReservationId, waiting, 30L), (reserved.ReservationId, reserved.UserId, reserved.Amount));
        Assert.Empty(answer.Insufficient);
        Assert.Equal(new WalletBalance(100, 0), await billing.BalanceAsync(gone));
        Assert.Equal(new WalletBalance(100, 30), await billing.BalanceAsync(waiting));
    }

    [Fact]
    public async Task A_reservation_request_that_arrives_after_its_time_to_live_is_not_applied()
    {
        var userId = await billing.NewWalletAsync(100);
        var client = billing.Bus.CreateRequestClient<ReserveCredits>(RequestTimeout.After(s: 2));

        await Assert.ThrowsAsync<RequestTimeoutException>(() => client.GetResponse<CreditsReserved, CreditsInsufficient>(
            new ReserveCredits(Guid.NewGuid(), userId, 40, "Chat request", TimeSpan.FromMinutes(5)),
            // A tenth of a microsecond: already past when Billing reads it, however quickly it arrives (with 1 ms, a quiet
            // machine once delivered and answered it in time).
            request => request.UseExecute(context => context.TimeToLive = TimeSpan.FromTicks(1)), Cancel));

        Assert.Equal(new WalletBalance(100, 0), await billing.BalanceAsync(userId));
    }

    [Fact]
    public async Task The_holds_of_a_holder_that_stops_renewing_them_are_released_after_its_lease_and_the_others_are_kept()
    {
        var userId = await billing.NewWalletAsync(100);
        var (silent, renewing) = (Guid.NewGuid(), Guid.NewGuid());
        await billing.ReserveAsync(userId, 30, holder: silent);
        await billing.ReserveAsync(userId, 20, holder: renewing);
        await billing.ReserveAsync(userId, 10); // no holder: kept until its HoldFor
        using var renewals = new CancellationTokenSource();
        var renewingTask = Task.Run(async () =>
        {
            while (!renewals.IsCancellationRequested)
            {
                await billing.Bus.Publish(new HoldsRenewed(renewing, DateTimeOffset.UtcNow), Cancel);
                await Task.Delay(BillingSystem.HolderLease / 4, Cancel);
            }
        }, Cancel);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var released = await Eventually.UntilAsync(() => billing.BalanceAsync(userId), b => b.Held == 30, TimeSpan.FromSeconds(15));
        var after = stopwatch.Elapsed;
        // A sleep: the check is that the renewed hold is NOT released, and a release that does not happen sends no
        // event. Had renewals not counted it would have gone with the silent one (same lease, same start), or at a
        // sweep within one more lease.
        await Task.Delay(BillingSystem.HolderLease, Cancel);
        renewals.Cancel();
        await renewingTask;

        Assert.Equal(new WalletBalance(100, 30), released);
        Assert.InRange(after, BillingSystem.HolderLease - TimeSpan.FromSeconds(1), BillingSystem.HolderLease * 4);
        Assert.Equal(new WalletBalance(100, 30), await billing.BalanceAsync(userId));
    }

    // The grant travels through Identity's outbox and the broker, the user's first request through the edge and Chat: the
    // request may come first, and waits for the wallet rather than being refused "Available: 0".
    [Fact]
    public async Task A_reservation_that_arrives_before_its_users_sign_up_grant_waits_for_it_and_one_for_nobody_is_refused()
    {
        var registered = new UserRegistered(Guid.NewGuid(), Guid.NewGuid(), "early@example.com", DateTimeOffset.UtcNow);

        var reserving = billing.ReserveAsync(registered.UserId, 30);
        await Task.Delay(500, Cancel);
        await billing.Bus.Publish(registered, Cancel);
        var nobody = await billing.ReserveAsync(Guid.NewGuid(), 30);

        Assert.True((await reserving).Is(out Response<CreditsReserved>? held), "refused before the grant arrived");
        Assert.Equal(30, held.Message.Amount);
        Assert.Equal(new WalletBalance(BillingSystem.SignUpGrant, 30), await billing.BalanceAsync(registered.UserId));
        Assert.True(nobody.Is(out Response<CreditsInsufficient>? refused));
        Assert.Equal(0, refused.Message.Available);
    }

    [Fact]
    public async Task UserRegistered_delivered_twice_grants_the_sign_up_credits_once()
    {
        var registered = new UserRegistered(Guid.NewGuid(), Guid.NewGuid(), "twice@example.com", DateTimeOffset.UtcNow);
        using var consumed = Consumed.Watch(billing.Bus);

        await billing.Bus.Publish(registered, Cancel);
        await billing.Bus.Publish(registered, Cancel);
        var granted = await Eventually.UntilAsync(() => billing.BalanceAsync(registered.UserId), b => b.Balance > 0);
        Assert.Equal(2, await consumed.CountAsync<UserRegistered>(r => r.UserId == registered.UserId, 2));

        Assert.Equal(new WalletBalance(BillingSystem.SignUpGrant, 0), granted);
        Assert.Equal(new WalletBalance(BillingSystem.SignUpGrant, 0), await billing.BalanceAsync(registered.UserId));
    }
}
