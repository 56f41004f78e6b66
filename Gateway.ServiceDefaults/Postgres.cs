using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gateway.ServiceDefaults;

public static class Postgres
{
    // The service's own database through Aspire's client integration (ConnectionStrings:<connectionName>), kept as our
    // services use it, with our readiness check "postgres", and migrated before the service starts listening.
    public static IHostApplicationBuilder AddPostgresDbContext<TContext>(this IHostApplicationBuilder builder, string connectionName)
        where TContext : DbContext
    {
        builder.AddNpgsqlDbContext<TContext>(
            connectionName,
            settings =>
            {
                settings.ConnectionString = ConnectionStrings.Require(settings.ConnectionString, connectionName);
                // Aspire's default is EnableRetryOnFailure; our code opens its own transactions and decides what may run again.
                settings.DisableRetry = true;
                // Ours instead: the readiness check named "postgres", and Telemetry.cs's Npgsql instrumentation (only with an endpoint).
                settings.DisableHealthChecks = true;
                settings.DisableTracing = true;
                settings.DisableMetrics = true;
            },
            options => options
                .UseNpgsql(npgsql => npgsql.ConfigureDataSource(dataSource => dataSource.AsOurServicesUseIt()))
                // A failed command reaches its caller as an exception: one the code expects (a unique name taken: a 409)
                // is not an error, and one it does not is logged where it is handled (the exception handler, a
                // background service's loop). EF's own error entries, with the SQL and a stack trace, only repeated them.
                .ConfigureWarnings(warnings => warnings.Log(
                    (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandError, LogLevel.Debug),
                    (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.SaveChangesFailed, LogLevel.Debug))));
        // Interceptors are services (the outbox's needs its signal), which Aspire's options callback cannot reach.
        builder.Services.ConfigureDbContext<TContext>(
            (services, options) => options.AddInterceptors(services.GetServices<Microsoft.EntityFrameworkCore.Diagnostics.ISaveChangesInterceptor>()),
            ServiceLifetime.Singleton);
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("postgres", tags: [Health.ReadyTag]);
        builder.Services.AddHostedService<DatabaseMigrator<TContext>>();
        return builder;
    }

    // Every data source of ours, EF Core's and the ledger's alike.
    // - No session state is kept on a connection (advisory locks are transaction-scoped), so a pooled connection
    //   goes back without DISCARD ALL: the next use sends one statement less, the statements Npgsql prepares
    //   automatically stay prepared, and Postgres keeps the plans it cached for plpgsql functions (the ledger's
    //   batches planned every statement again before).
    // - A query belongs in a trace when something traced caused it; background polling would be a trace per query.
    public static NpgsqlDataSourceBuilder AsOurServicesUseIt(this NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.NoResetOnClose = true;
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
        return dataSource.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null));
    }

    private sealed class DatabaseMigrator<TContext>(IServiceProvider services, ILogger<DatabaseMigrator<TContext>> logger) : IHostedLifecycleService
        where TContext : DbContext
    {
        private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);
        private static readonly Lock ModelGate = new();

        // EF Core builds a context's runtime model on its first use and guards that with a double-checked lock that
        // lets a second thread through before the first has finished: a query compiled meanwhile fails with "The model
        // must be finalized and its runtime dependencies must be initialized before 'GetRelationalModel' can be used"
        // (a 500 from Keys' vault while another host in the same test process was starting). So the model is built
        // here, one thread at a time, before any hosted service starts or a request is served.
        public Task StartingAsync(CancellationToken cancellationToken)
        {
            using var scope = services.CreateScope();
            lock (ModelGate)
            {
                scope.ServiceProvider.GetRequiredService<TContext>().Model.GetRelationalModel();
            }
            return Task.CompletedTask;
        }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var started = DateTime.UtcNow;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var scope = services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<TContext>();
                    // The database and its migrations history are created first, if new: MigrateAsync would find out by a
                    // failed connection and a failed query, which EF logs as errors on every first start ("An error
                    // occurred using the connection", "Failed executing DbCommand"); these two expect that.
                    var creator = db.GetService<IRelationalDatabaseCreator>();
                    if (!await creator.ExistsAsync(cancellationToken))
                    {
                        await creator.CreateAsync(cancellationToken);
                    }
                    await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
                    await db.Database.MigrateAsync(cancellationToken);
                    logger.LogInformation("Database {Database} is migrated", db.Database.GetDbConnection().Database);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException && DateTime.UtcNow - started < GiveUpAfter)
                {
                    // The database may still be starting; a crash here would only be restarted anyway.
                    logger.LogWarning("Migrating {Context} failed (attempt {Attempt}): {Reason}", typeof(TContext).Name, attempt, ex.Message);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), cancellationToken);
                }
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
