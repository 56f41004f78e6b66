using Gateway.ServiceDefaults;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ServiceDefaults.Tests;

// ServiceDefaults' database through Aspire's AddNpgsqlDbContext, kept as the benchmarks showed it must be: explicit
// transactions with no retrying strategy around them, pooled connections that keep their session, our interceptors.
public sealed class ServiceDatabaseTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task No_command_is_retried_behind_the_services_back()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = await StartAsync(ct);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ProbeDbContext>();

        // Aspire's default is EnableRetryOnFailure; our code opens its own transactions and decides what may run again.
        Assert.False(db.Database.CreateExecutionStrategy().RetriesOnFailure);
        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_pooled_connection_keeps_its_session_when_it_is_used_again()
    {
        var ct = TestContext.Current.CancellationToken;
        using var host = await StartAsync(ct);
        await using var scope = host.Services.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<ProbeDbContext>().Database.GetDbConnection();

        await connection.OpenAsync(ct);
        await using (var set = connection.CreateCommand())
        {
            set.CommandText = "SET application_name = 'kept'";
            await set.ExecuteNonQueryAsync(ct);
        }
        await connection.CloseAsync();
        // The pool holds one connection, so this is the same one: Npgsql's reset (DISCARD ALL) would have cleared it.
        await connection.OpenAsync(ct);
        await using var show = connection.CreateCommand();
        show.CommandText = "SHOW application_name";

        Assert.Equal("kept", await show.ExecuteScalarAsync(ct));
        await connection.CloseAsync();
        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Saving_changes_goes_through_the_registered_interceptors()
    {
        var ct = TestContext.Current.CancellationToken;
        var interceptor = new SaveCounter();
        using var host = await StartAsync(ct, services => services.AddSingleton<ISaveChangesInterceptor>(interceptor));
        await using var scope = host.Services.CreateAsyncScope();

        await scope.ServiceProvider.GetRequiredService<ProbeDbContext>().SaveChangesAsync(ct);

        Assert.Equal(1, interceptor.Saved);
        await host.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void A_missing_connection_string_fails_at_registration_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        var database = Assert.Throws<InvalidOperationException>(() => builder.AddPostgresDbContext<ProbeDbContext>("probedb"));
        var redis = Assert.Throws<InvalidOperationException>(() => builder.AddRedis());

        Assert.Contains("ConnectionStrings__probedb", database.Message);
        Assert.Contains("ConnectionStrings__redis", redis.Message);
    }

    private async Task<IHost> StartAsync(CancellationToken ct, Action<IServiceCollection>? configure = null)
    {
        var resources = await infrastructure.IsolateAsync(ct);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["ConnectionStrings:probedb"] = $"{resources.Database("probedb")};Maximum Pool Size=1";
        configure?.Invoke(builder.Services);
        builder.AddPostgresDbContext<ProbeDbContext>("probedb");
        var host = builder.Build();
        // The migrator creates the database before the host has started.
        await host.StartAsync(ct);
        return host;
    }

    public sealed class ProbeDbContext(DbContextOptions<ProbeDbContext> options) : DbContext(options);

    private sealed class SaveCounter : SaveChangesInterceptor
    {
        public int Saved;

        public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Saved);
            return ValueTask.FromResult(result);
        }
    }
}
