using Gateway.Chat.Upstream;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

// This Chat process as Billing knows it: every hold it asks for names Holder, and it renews them all at once every
// RenewEvery while it runs. After a crash nobody renews them, and Billing gives them back within its HolderLease
// (30 s) instead of keeping them until their HoldFor.
public sealed class HoldRenewals(IBus bus, IOptions<ChatServiceOptions> options, TimeProvider clock, ILogger<HoldRenewals> logger) : BackgroundService
{
    public Guid Holder { get; } = Guid.CreateVersion7();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.Reservations.RenewEvery;
        using var timer = new PeriodicTimer(every, clock);
        var failing = false;
        do
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                attempt.CancelAfter(every);
                // Only the latest renewal matters: not written to the broker's disk, and dropped once the next is due.
                await bus.Publish(new HoldsRenewed(Holder, clock.GetUtcNow()), context =>
                {
                    context.Durable = false;
                    context.TimeToLive = every;
                }, attempt.Token);
                if (failing)
                {
                    logger.LogInformation("Holds are renewed again");
                }
                failing = false;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                if (!failing)
                {
                    logger.LogWarning("Holds could not be renewed ({Reason}); Billing releases them if this lasts", ex.Message);
                }
                failing = true;
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
