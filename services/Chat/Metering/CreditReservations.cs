using Gateway.Chat.Infrastructure;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

public enum ReservationOutcome { Reserved, Insufficient, Unavailable }

public sealed record Reservation(Guid Id, Guid UserId, ReservationOutcome Outcome, long Amount, long Available, long Balance = 0)
{
    public bool Held => Outcome == ReservationOutcome.Reserved;
}

// Holds credits in Billing before any money is spent upstream (MassTransit request/response, in messages shared with
// other requests: ReservationBatches). No answer in time means no: the request is refused and the reservation
// cancelled, because Billing may yet make it.
public sealed class CreditReservations(
    ReservationBatches batches, HoldRenewals renewals, ChatDbContext db, IOptions<ChatServiceOptions> options, TimeProvider clock,
    ILogger<CreditReservations> logger)
{
    public async Task<Reservation> ReserveAsync(Guid userId, long amount, string reason, CancellationToken cancellationToken) =>
        (await ReserveManyAsync(userId, amount, 1, reason, cancellationToken))[0];

    // Holds of the same amount in one round trip (one for a request, several for standby holds), each answered as
    // if asked alone, in the order asked. One answer type, so the request client waits on one response, not two.
    public async Task<IReadOnlyList<Reservation>> ReserveManyAsync(Guid userId, long amount, int count, string reason, CancellationToken cancellationToken)
    {
        var settings = options.Value.Reservations;
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7()).ToList();
        try
        {
            var answer = await batches.ReserveAsync(
                ids.Select(id => new ReserveCredits(id, userId, amount, reason, settings.HoldFor, renewals.Holder)).ToList(), cancellationToken);
            var reserved = answer.Reserved.ToDictionary(r => r.ReservationId);
            var refused = answer.Insufficient.ToDictionary(r => r.ReservationId);
            return ids.Select(id => reserved.TryGetValue(id, out var held)
                    ? new Reservation(id, userId, ReservationOutcome.Reserved, held.Amount, held.Available, held.Balance)
                    : refused.TryGetValue(id, out var refusedHold)
                        ? new Reservation(id, userId, ReservationOutcome.Insufficient, refusedHold.Required, refusedHold.Available)
                        : throw new InvalidOperationException($"Billing did not answer reservation {id} of the batch."))
                .ToList();
        }
        catch (Exception ex) when (ex is RequestTimeoutException or RequestFaultException or OperationCanceledException or MassTransitException)
        {
            // Our caller stopped waiting (the caller left, or the model call timed out while its next hold was asked for):
            // not Billing's failure, so not a warning; the holds are given back all the same.
            var callerStopped = ex is OperationCanceledException && cancellationToken.IsCancellationRequested;
            logger.Log(callerStopped ? LogLevel.Debug : LogLevel.Warning,
                "{Count} reservation(s) for {UserId} got no answer ({Reason}); refusing and cancelling them", count, userId, ex.Message);
            var unavailable = ids.Select(id => new Reservation(id, userId, ReservationOutcome.Unavailable, amount, 0)).ToList();
            await CancelAsync(unavailable, callerStopped ? "No longer needed" : "Billing did not answer in time");
            if (callerStopped)
            {
                throw;
            }
            return unavailable;
        }
    }

    // Gives the hold back, through the outbox: it reaches Billing even if the broker is down right now.
    public Task CancelAsync(Reservation reservation, string reason) => CancelAsync([reservation], reason);

    public async Task CancelAsync(IReadOnlyCollection<Reservation> holds, string reason)
    {
        db.ChangeTracker.Clear();
        foreach (var reservation in holds)
        {
            db.AddToOutbox(new ReservationCancelled(reservation.Id, reservation.UserId, reason, clock.GetUtcNow()));
        }
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
