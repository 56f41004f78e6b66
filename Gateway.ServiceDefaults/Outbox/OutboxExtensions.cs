using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.ServiceDefaults.Outbox;

// Our own transactional outbox rather than MassTransit's: its EF Core outbox package (MassTransit.EntityFrameworkCore)
// is not served on this machine's package registry, and MassTransit stays on 8.5.x. Each service stages its messages
// as rows of its own context in the same SaveChanges as the change they describe (AddToOutbox); OutboxPublisher sends
// them once committed, woken by OutboxSignal, and OutboxCleaner deletes published rows after a while.
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

    // Outside an explicit transaction the rows are committed when saved; inside one, when it commits. Waking only on
    // the save left those to the next poll, up to a second later (a session ended in a transaction reached the edge
    // and the live sockets 1.1 s after the request).
    private sealed class OutboxSignalInterceptor(OutboxSignal signal) : SaveChangesInterceptor, IDbTransactionInterceptor
    {
        public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context is { Database.CurrentTransaction: null } context && HasOutboxRows(context))
            {
                signal.Notify();
            }
            return ValueTask.FromResult(result);
        }

        public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (eventData.Context is { } context && HasOutboxRows(context))
            {
                signal.Notify();
            }
            return Task.CompletedTask;
        }

        private static bool HasOutboxRows(DbContext context) => context.ChangeTracker.Entries<OutboxMessage>().Any();
    }
}
