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
    IRequestClient<ReserveCredits> client, ChatDbContext db, IOptions<ChatServiceOptions> options, TimeProvider clock, ILogger<CreditReservations> logger)
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
