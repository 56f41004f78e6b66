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

// Holds credits in Billing before any money is spent upstream (MassTransit request/response). No answer in
// time means no: the request is refused and the reservation cancelled, because Billing may yet make it.
public sealed class CreditReservations(
    IRequestClient<ReserveCredits> client, IRequestClient<ReserveCreditsBatch> batchClient, ChatDbContext db, IOptions<ChatServiceOptions> options, TimeProvider clock, ILogger<CreditReservations> logger)
{
    public async Task<Reservation> ReserveAsync(Guid userId, long amount, string reason, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        var settings = options.Value.Reservations;
        try
        {
            var response = await client.GetResponse<CreditsReserved, CreditsInsufficient>(
                new ReserveCredits(id, userId, amount, reason, settings.HoldFor),
                // Not written to the broker's disk: a request lost in a broker restart times out and is cancelled like any other.
                request => request.UseExecute(context => context.Durable = false),
                cancellationToken, RequestTimeout.After(ms: (int)settings.Timeout.TotalMilliseconds));
            return response.Is(out Response<CreditsReserved>? reserved)
                ? new Reservation(id, userId, ReservationOutcome.Reserved, reserved.Message.Amount, reserved.Message.Available, reserved.Message.Balance)
                : response.Is(out Response<CreditsInsufficient>? refused)
                    ? new Reservation(id, userId, ReservationOutcome.Insufficient, refused.Message.Required, refused.Message.Available)
                    : throw new InvalidOperationException("Billing answered neither reserved nor insufficient.");
        }
        catch (Exception ex) when (ex is RequestTimeoutException or RequestFaultException or OperationCanceledException or MassTransitException)
        {
            logger.LogWarning("Reservation {ReservationId} for {UserId} got no answer ({Reason}); refusing and cancelling it", id, userId, ex.Message);
            var unavailable = new Reservation(id, userId, ReservationOutcome.Unavailable, amount, 0);
            await CancelAsync(unavailable, "Billing did not answer in time");
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            return unavailable;
        }
    }

    // Several holds of the same amount in one round trip (standby holds); each is answered as if asked alone, in the
    // order asked. No answer in time: every one of them is cancelled, as above.
    public async Task<IReadOnlyList<Reservation>> ReserveManyAsync(Guid userId, long amount, int count, string reason, CancellationToken cancellationToken)
    {
        var settings = options.Value.Reservations;
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7()).ToList();
        try
        {
            var response = await batchClient.GetResponse<CreditsReservedBatch>(
                new ReserveCreditsBatch(ids.Select(id => new ReserveCredits(id, userId, amount, reason, settings.HoldFor)).ToList()),
                request => request.UseExecute(context => context.Durable = false),
                cancellationToken, RequestTimeout.After(ms: (int)settings.Timeout.TotalMilliseconds));
            var reserved = response.Message.Reserved.ToDictionary(r => r.ReservationId);
            var refused = response.Message.Insufficient.ToDictionary(r => r.ReservationId);
            return ids.Select(id => reserved.TryGetValue(id, out var held)
                    ? new Reservation(id, userId, ReservationOutcome.Reserved, held.Amount, held.Available, held.Balance)
                    : refused.TryGetValue(id, out var refusedHold)
                        ? new Reservation(id, userId, ReservationOutcome.Insufficient, refusedHold.Required, refusedHold.Available)
                        : throw new InvalidOperationException($"Billing did not answer reservation {id} of the batch."))
                .ToList();
        }
        catch (Exception ex) when (ex is RequestTimeoutException or RequestFaultException or OperationCanceledException or MassTransitException)
        {
            logger.LogWarning("{Count} reservations for {UserId} got no answer ({Reason}); cancelling them", count, userId, ex.Message);
            var unavailable = ids.Select(id => new Reservation(id, userId, ReservationOutcome.Unavailable, amount, 0)).ToList();
            await CancelAsync(unavailable, "Billing did not answer in time");
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
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
