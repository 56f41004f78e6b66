using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.ServiceDefaults.Outbox;

public static class OutboxExtensions
{
    // The transactional outbox for TContext (whose model must call AddOutbox()); MassTransit must be
    // registered too (AddMessaging).
    public static IHostApplicationBuilder AddOutbox<TContext>(this IHostApplicationBuilder builder) where TContext : DbContext
    {
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<ISaveChangesInterceptor, OutboxSignalInterceptor>();
        builder.Services.AddHostedService<OutboxPublisher<TContext>>();
        builder.Services.AddHostedService<OutboxCleaner<TContext>>();
        return builder;
    }

    private sealed class OutboxSignalInterceptor(OutboxSignal signal) : SaveChangesInterceptor
    {
        public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            // Outside an explicit transaction the rows are committed now; inside one the next poll finds them.
            if (eventData.Context?.ChangeTracker.Entries<OutboxMessage>().Any() == true)
            {
                signal.Notify();
            }
            return ValueTask.FromResult(result);
        }
    }
}
