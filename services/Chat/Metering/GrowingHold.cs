using Gateway.Chat.Upstream;

namespace Gateway.Chat.Metering;

// A low-balance caller's hold: it starts at what a short answer costs and grows with the answer, one more hold at a
// time (doubling), asked for ahead, once three quarters of what is held is used. So a wallet that can pay for N short
// answers serves N callers at once rather than one long answer's worst case, and a lone caller still gets as long an
// answer as they can pay for. When the wallet cannot pay for more, the answer ends there (finish reason "length"):
// nothing is produced that was not held. Once Billing has no more, the caller's standby holds are theirs too: the answer
// takes them (StandbyHolds.TakeAll) rather than ending while its own caller's credits sit held for a next request.
public sealed class GrowingHold(
    IServiceScopeFactory scopes, StandbyHolds standby, PricedModel model, Reservation first, int heldOutput, int maxOutput, string reason)
    : IOutputBudget
{
    private readonly List<Reservation> _more = [];
    private Task<IReadOnlyList<Reservation>>? _growing;

    // Every hold the answer grew through, the first one first.
    public IReadOnlyList<Reservation> Holds => [first, .. _more];

    public async ValueTask<bool> CoversAsync(long outputTokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (heldOutput >= maxOutput)
            {
                return true; // the model's own limit ends the answer
            }
            if (_growing is null && outputTokens >= heldOutput * 3L / 4)
            {
                _growing = GrowAsync(Math.Min(heldOutput, maxOutput - heldOutput), cancellationToken);
            }
            if (outputTokens < heldOutput)
            {
                return true;
            }
            if (_growing is null || await _growing is not { Count: > 0 } grown)
            {
                return false;
            }
            _growing = null;
            _more.AddRange(grown);
            heldOutput += (int)Math.Floor(grown.Sum(hold => hold.Amount) / Math.Max(model.OutputPrice, 0.0001m));
        }
    }

    // The answer has ended: a hold still being asked for joins the others, so that it is charged or released with them.
    public async Task CompleteAsync()
    {
        if (_growing is not null)
        {
            _more.AddRange(await _growing);
        }
        _growing = null;
    }

    public IReadOnlyList<(Reservation Hold, long Credits)> Share(long credits) => HoldShares.Share(Holds, credits);

    // The hold the next part of the answer needs, or, when the wallet has less, what it has (a hold is never refused
    // for being too big if a smaller one would do): Billing's available credits, then the caller's standby holds. None
    // when not even that could be held.
    private async Task<IReadOnlyList<Reservation>> GrowAsync(int tokens, CancellationToken cancellationToken)
    {
        await Task.Yield(); // off the answer's path
        // A scope of its own: the request's DbContext may be busy while this runs.
        await using var scope = scopes.CreateAsyncScope();
        var reservations = scope.ServiceProvider.GetRequiredService<CreditReservations>();
        List<Reservation> holds = [];
        try
        {
            var wanted = model.Cost(0, tokens);
            var grown = await reservations.ReserveAsync(first.UserId, wanted, reason, cancellationToken);
            if (grown.Held)
            {
                return [grown];
            }
            if (grown.Outcome != ReservationOutcome.Insufficient)
            {
                return [];
            }
            holds.AddRange(standby.TakeAll(first.UserId));
            var missing = wanted - holds.Sum(hold => hold.Amount);
            if (missing > 0 && grown.Available > 0 && (holds.Count > 0 || grown.Available >= model.Cost(0, CreditMeter.MinimumAffordableAnswer)))
            {
                var rest = await reservations.ReserveAsync(first.UserId, Math.Min(missing, grown.Available), reason, cancellationToken);
                if (rest.Held)
                {
                    holds.Add(rest);
                }
            }
            return holds;
        }
        catch (OperationCanceledException)
        {
            // The caller left: CreditReservations cancelled the hold it was asking for; the standby holds already taken
            // are the answer's now, released with its others.
            return holds;
        }
    }
}

public static class HoldShares
{
    // Shares a charge out over holds, in the order they were made; anything beyond them falls on the last one.
    public static IReadOnlyList<(Reservation Hold, long Credits)> Share(IReadOnlyList<Reservation> holds, long credits)
    {
        var shares = new List<(Reservation, long)>(holds.Count);
        for (var i = 0; i < holds.Count; i++)
        {
            var share = i == holds.Count - 1 ? credits : Math.Min(credits, holds[i].Amount);
            shares.Add((holds[i], share));
            credits -= share;
        }
        return shares;
    }
}
