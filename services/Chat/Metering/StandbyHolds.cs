using System.Collections.Concurrent;
using System.Numerics;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

// Holds made ahead for a caller who is sending requests in quick succession, so that their next request starts
// with its credits already held and skips the round trip to Billing (about half of what Chat added to a request).
// Each standby hold is an ordinary hold of its own: one request takes it, that request's usage captures it once
// and Billing releases the rest, so nothing can be spent that was not held and Billing's guarantees are unchanged.
// A caller gets them only while
//   busy: a request came within BusyWithin of their previous one (an interactive user pays the round trip), and
//   rich: after the hold, at least RichFactor times its amount is still available, so that a caller near the
//         end of their credits gets a hold per request and an exact 402 (standby holds never crowd them out).
// They are made several at a time, in one ReserveCreditsBatch round trip, once half of a caller's MaxPerCaller are
// gone: the round trip, not the hold, is most of what a reservation costs (bench/Chat.Bench, Chat's README).
// A standby hold unused for IdleRelease goes back to the caller, all of them go back when Chat stops, and after a
// crash they expire in Billing (HoldFor). While a caller has some, their balance shows them as held.
public sealed class StandbyHolds(
    IServiceScopeFactory scopes, IOptions<ChatServiceOptions> options, TimeProvider clock, ILogger<StandbyHolds> logger) : BackgroundService
{
    private const string Reason = "Standby hold for the next request";
    private static readonly System.Diagnostics.Metrics.Meter Metrics = new("Gateway.Chat");
    private static readonly System.Diagnostics.Metrics.Counter<long> Holds = Metrics.CreateCounter<long>(
        "gateway.chat.holds", description: "Requests' holds, by whether a standby hold served the request (standby=true) or it reserved on its own path.");

    private readonly ConcurrentDictionary<Guid, Caller> _callers = new();
    private volatile bool _stopping;

    private StandbyOptions Settings => options.Value.Reservations.Standby;

    // A standby hold of at least this amount, when the caller has one; otherwise, when the caller is busy, one is
    // made for their next request and this one reserves on its own path.
    public bool TryTake(Guid userId, long amount, out Reservation reservation)
    {
        reservation = null!;
        if (Settings.MaxPerCaller <= 0)
        {
            return false;
        }
        var now = clock.GetUtcNow();
        var caller = _callers.GetOrAdd(userId, _ => new Caller());
        Monitor.Enter(caller);
        while (caller.Forgotten) // removed as quiet between the lookup and the lock: start afresh
        {
            Monitor.Exit(caller);
            caller = _callers.GetOrAdd(userId, _ => new Caller());
            Monitor.Enter(caller);
        }
        try
        {
            var busy = now - caller.LastRequest <= Settings.BusyWithin;
            caller.LastRequest = now;
            var taken = Take(caller, amount);
            if (taken is null)
            {
                // The request reserves on its own path: until it is done (OwnPathDone) its credits are spoken for.
                caller.OnOwnPath += amount;
            }
            // Made in batches, once half of the caller's standby holds are gone: one round trip to Billing for several.
            var size = Bucket(amount);
            var have = caller.Ready.Count + caller.Refilling;
            var count = Math.Min(Settings.MaxPerCaller - have, caller.Affordable(size, Settings.RichFactor));
            if (busy && have <= Settings.MaxPerCaller / 2 && count > 0)
            {
                caller.Refilling += count;
                caller.Refilled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = RefillAsync(userId, caller, size, count);
            }
            if (taken is null)
            {
                Holds.Add(1, new KeyValuePair<string, object?>("standby", false));
                return false;
            }
            reservation = taken;
        }
        finally
        {
            Monitor.Exit(caller);
        }
        Holds.Add(1, new KeyValuePair<string, object?>("standby", true));
        return true;
    }

    // A request that reserved on its own path (TryTake answered false) has its answer, and took a standby hold after a
    // refusal if it could.
    public void OwnPathDone(Guid userId, long amount)
    {
        if (Settings.MaxPerCaller > 0 && _callers.TryGetValue(userId, out var caller))
        {
            lock (caller)
            {
                caller.OnOwnPath -= amount;
            }
        }
    }

    // A request Billing refused while standby holds were being made for its caller waits for them and takes one: they
    // hold credits it would otherwise have had, so that a wallet for exactly N requests serves N at once, not N less
    // the standby holds. Null when none comes (within the reservation timeout).
    public async Task<Reservation?> TakeAfterRefillAsync(Guid userId, long amount, CancellationToken cancellationToken)
    {
        if (!_callers.TryGetValue(userId, out var caller))
        {
            return null;
        }
        Task refilled;
        lock (caller)
        {
            if (caller.Refilled is null)
            {
                return Take(caller, amount);
            }
            refilled = caller.Refilled.Task;
            caller.Waiting++;
        }
        try
        {
            await refilled.WaitAsync(options.Value.Reservations.Timeout, clock, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            lock (caller)
            {
                caller.Waiting--;
            }
        }
        lock (caller)
        {
            return Take(caller, amount);
        }
    }

    // The credits of the caller's usable standby holds: theirs to spend, though Billing counts them as held, not available.
    public long ReadyCredits(Guid userId)
    {
        if (!_callers.TryGetValue(userId, out var caller))
        {
            return 0;
        }
        lock (caller)
        {
            var usableUntil = UsableUntil(clock.GetUtcNow());
            return caller.Ready.Where(h => h.ExpiresAt > usableUntil).Sum(h => h.Reservation.Amount);
        }
    }

    // Every usable standby hold of the caller, taken: an answer that has outgrown what Billing has available grows into
    // them (GrowingHold) rather than ending while the caller's own credits sit held for a next request.
    public IReadOnlyList<Reservation> TakeAll(Guid userId)
    {
        if (!_callers.TryGetValue(userId, out var caller))
        {
            return [];
        }
        lock (caller)
        {
            var usableUntil = UsableUntil(clock.GetUtcNow());
            var taken = caller.Ready.Where(h => h.ExpiresAt > usableUntil).Select(h => h.Reservation with { Balance = caller.BalanceNow() }).ToList();
            caller.Ready.RemoveAll(h => h.ExpiresAt > usableUntil);
            return taken;
        }
    }

    // A standby hold is usable while it outlives the longest a request may take with it.
    private DateTimeOffset UsableUntil(DateTimeOffset now) => now + options.Value.Upstream.Timeout + options.Value.Reservations.Timeout;

    // The smallest ready standby hold of at least this amount that is still usable; -1 when there is none.
    private int Best(Caller caller, long amount, DateTimeOffset now)
    {
        var usableUntil = UsableUntil(now);
        var best = -1;
        for (var i = 0; i < caller.Ready.Count; i++)
        {
            var hold = caller.Ready[i];
            if (hold.Reservation.Amount >= amount && hold.ExpiresAt > usableUntil && (best < 0 || hold.Reservation.Amount < caller.Ready[best].Reservation.Amount))
            {
                best = i;
            }
        }
        return best;
    }

    private Reservation? Take(Caller caller, long amount)
    {
        var best = Best(caller, amount, clock.GetUtcNow());
        if (best < 0)
        {
            return null;
        }
        var reservation = caller.Ready[best].Reservation with { Balance = caller.BalanceNow() };
        caller.Ready.RemoveAt(best);
        return reservation;
    }

    // Billing's word on the caller's balance, as of when the reservation was asked for: what done.balance starts
    // from, and (held or refused) what decides whether standby holds are worth making.
    public void Reported(Guid userId, Reservation reservation, DateTimeOffset askedAt)
    {
        if (reservation.Outcome != ReservationOutcome.Unavailable && _callers.TryGetValue(userId, out var caller))
        {
            lock (caller)
            {
                caller.Report(reservation, askedAt);
            }
        }
    }

    // A charge this Chat committed: not in any balance Billing reported before it.
    public void Charged(Guid userId, long credits)
    {
        if (_callers.TryGetValue(userId, out var caller))
        {
            lock (caller)
            {
                caller.Charges.Add((clock.GetUtcNow(), credits));
            }
        }
    }

    // Gives back standby holds nobody took in time, and forgets callers who have gone quiet.
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = clock.GetUtcNow();
            var idle = new List<Reservation>();
            foreach (var (userId, caller) in _callers)
            {
                lock (caller)
                {
                    idle.AddRange(caller.Ready.Where(h => now - h.MadeAt >= Settings.IdleRelease).Select(h => h.Reservation));
                    caller.Ready.RemoveAll(h => now - h.MadeAt >= Settings.IdleRelease);
                    if (caller.Ready.Count == 0 && caller.Refilling == 0 && caller.OnOwnPath == 0 && now - caller.LastRequest > TimeSpan.FromMinutes(1))
                    {
                        caller.Forgotten = true;
                        _callers.TryRemove(userId, out _);
                    }
                }
            }
            await ReleaseAsync(idle, "Standby hold not needed");
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        await base.StopAsync(cancellationToken);
        var all = new List<Reservation>();
        foreach (var caller in _callers.Values)
        {
            lock (caller)
            {
                all.AddRange(caller.Ready.Select(h => h.Reservation));
                caller.Ready.Clear();
            }
        }
        await ReleaseAsync(all, "Chat stopped");
    }

    private async Task RefillAsync(Guid userId, Caller caller, long amount, int count)
    {
        await Task.Yield(); // off the request's path
        var unneeded = new List<Reservation>();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var askedAt = clock.GetUtcNow();
            var made = await scope.ServiceProvider.GetRequiredService<CreditReservations>().ReserveManyAsync(userId, amount, count, Reason, CancellationToken.None);
            lock (caller)
            {
                // The hold Billing made last left the least available: its word is the one kept.
                foreach (var hold in made.OrderByDescending(h => h.Available))
                {
                    if (hold.Outcome != ReservationOutcome.Unavailable)
                    {
                        caller.Report(hold, askedAt);
                    }
                    if (!hold.Held)
                    {
                        continue;
                    }
                    // Kept while rich, or while a refused request waits for it (TakeAfterRefillAsync), or while requests of
                    // the caller's are on their way to Billing: one of them may be refused for the credits this holds, and
                    // takes it then; nobody's is given back after IdleRelease.
                    if (!_stopping && (hold.Available >= Settings.RichFactor * hold.Amount || caller.Waiting > 0 || caller.OnOwnPath > 0))
                    {
                        caller.Ready.Add(new StandbyHold(hold, clock.GetUtcNow(), askedAt + options.Value.Reservations.HoldFor));
                    }
                    else
                    {
                        unneeded.Add(hold);
                    }
                }
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning("Standby holds for {UserId} could not be made: {Reason}", userId, ex.Message);
        }
        finally
        {
            lock (caller)
            {
                caller.Refilling -= count;
                if (caller.Refilling == 0)
                {
                    caller.Refilled?.TrySetResult();
                    caller.Refilled = null;
                }
            }
        }
        await ReleaseAsync(unneeded, "Standby hold not needed: few credits left");
    }

    // Through the outbox, so a release reaches Billing even if the broker is down right now.
    private async Task ReleaseAsync(List<Reservation> holds, string reason)
    {
        if (holds.Count == 0)
        {
            return;
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var reservations = scope.ServiceProvider.GetRequiredService<CreditReservations>();
            await reservations.CancelAsync(holds, reason);
        }
        catch (Exception ex)
        {
            logger.LogWarning("{Count} standby holds could not be given back now and will expire in Billing instead: {Reason}", holds.Count, ex.Message);
        }
    }

    // Standby holds are made in steps of an eighth of the next power of two (at least 64: 64, 72, …, 128, 144, …), so
    // requests of slightly different sizes share them and a hold is never much more than the request it serves: what
    // it holds beyond that is credits the caller's other requests cannot have until it is captured.
    private static long Bucket(long amount)
    {
        var size = (ulong)Math.Max(64, amount);
        var step = BitOperations.RoundUpToPowerOf2(size) / 8;
        return (long)((size + step - 1) / step * step);
    }

    private sealed record StandbyHold(Reservation Reservation, DateTimeOffset MadeAt, DateTimeOffset ExpiresAt);

    private sealed class Caller
    {
        public DateTimeOffset LastRequest { get; set; } = DateTimeOffset.MinValue;
        public List<StandbyHold> Ready { get; } = [];
        public int Refilling { get; set; }
        // Completed when the refills in flight are done; null when none is.
        public TaskCompletionSource? Refilled { get; set; }
        // Refused requests waiting for the refills (TakeAfterRefillAsync).
        public int Waiting { get; set; }
        // The credits of requests reserving on their own path, not yet answered (TryTake to OwnPathDone).
        public long OnOwnPath { get; set; }
        public bool Forgotten { get; set; }
        public List<(DateTimeOffset At, long Credits)> Charges { get; } = [];
        private (long Balance, long Available, DateTimeOffset AskedAt)? _lastReport;

        public void Report(Reservation reservation, DateTimeOffset askedAt)
        {
            if (_lastReport is { } last && askedAt < last.AskedAt)
            {
                return;
            }
            if (reservation.Held)
            {
                _lastReport = (reservation.Balance, reservation.Available, askedAt);
                Charges.RemoveAll(c => c.At < askedAt);
            }
            else if (_lastReport is { } previous)
            {
                // Refused: what is available now is all Billing said; no standby hold until that changes.
                _lastReport = previous with { Available = reservation.Available };
            }
        }

        // How many holds of this size, by Billing's last word less what the caller's requests on their way there will
        // take, would still leave richFactor times the size available: asked before standby holds are made, so that a
        // caller with few credits never has one even for a moment, and a burst is not crowded out by its own holds.
        public int Affordable(long size, int richFactor) =>
            _lastReport is { } report ? (int)Math.Clamp((report.Available - OnOwnPath) / size - richFactor, 0, ReserveCreditsBatch.MaxHolds) : 0;

        // The last balance Billing reported, less what this Chat charged since it was asked.
        public long BalanceNow() => _lastReport is { } report
            ? report.Balance - Charges.Where(c => c.At >= report.AskedAt).Sum(c => c.Credits)
            : 0;
    }
}
