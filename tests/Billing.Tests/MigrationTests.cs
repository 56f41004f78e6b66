using System.Diagnostics;
using Gateway.Billing.Infrastructure;
using Gateway.Chat.Infrastructure;
using Gateway.Devices.Infrastructure;
using Gateway.Identity.Infrastructure;
using Gateway.Keys.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Billing.Tests;

// Every service's migrations, on databases of their own: however a database reached a migration (up from empty, or
// down from a later one), it holds the same tables, columns, indexes, constraints, triggers, types, functions with
// their bodies and seed rows, as pg_dump prints them.
public sealed class MigrationTests(GatewayInfrastructure infrastructure)
{
    private static readonly Dictionary<string, Func<string, DbContext>> Services = new()
    {
        ["identity"] = database => new AccountsDbContext(Options<AccountsDbContext>(database)),
        ["keys"] = database => new KeysDbContext(Options<KeysDbContext>(database)),
        ["billing"] = database => new BillingDbContext(Options<BillingDbContext>(database)),
        ["chat"] = database => new ChatDbContext(Options<ChatDbContext>(database)),
        ["devices"] = database => new DevicesDbContext(Options<DevicesDbContext>(database)),
    };

    public static TheoryData<string> ServiceNames => new(Services.Keys);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public async Task A_database_migrated_down_to_empty_and_up_again_is_the_same_as_one_migrated_up_once(string service)
    {
        await using var database = await EmptyDatabaseAsync(service, "again");
        var empty = await database.DumpAsync();
        await database.MigrateAsync(null);
        var upOnce = await database.DumpAsync();

        await database.MigrateAsync(Migration.InitialDatabase);
        AssertSame(empty, await database.DumpAsync(), $"{service}, down to empty");
        await database.MigrateAsync(null);
        AssertSame(upOnce, await database.DumpAsync(), $"{service}, up again");
    }

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public async Task Each_migrations_Down_gives_back_what_the_migration_before_it_built(string service)
    {
        await using var fresh = await EmptyDatabaseAsync(service, "fresh");
        await using var walked = await EmptyDatabaseAsync(service, "walked");
        string[] targets = [Migration.InitialDatabase, .. fresh.Migrations];
        var built = new List<string> { await fresh.DumpAsync() };
        foreach (var migration in fresh.Migrations)
        {
            await fresh.MigrateAsync(migration);
            built.Add(await fresh.DumpAsync());
        }

        for (var n = 1; n < targets.Length; n++)
        {
            await walked.MigrateAsync(targets[n]);
            await walked.MigrateAsync(targets[n - 1]);
            AssertSame(built[n - 1], await walked.DumpAsync(), $"{service}, {targets[n]} down to {targets[n - 1]}");
            await walked.MigrateAsync(targets[n]);
            AssertSame(built[n], await walked.DumpAsync(), $"{service}, {targets[n]} up again after its Down");
        }
    }

    private async Task<ServiceDatabase> EmptyDatabaseAsync(string service, string purpose)
    {
        var resources = await infrastructure.IsolateAsync(Cancel);
        var connectionString = resources.Database($"{service}_{purpose}");
        var context = Services[service](connectionString);
        // As the service's own migrator starts: the database and its (empty) migrations history first.
        await context.GetService<IRelationalDatabaseCreator>().CreateAsync(Cancel);
        await context.GetService<IHistoryRepository>().CreateIfNotExistsAsync(Cancel);
        return new ServiceDatabase(context, new NpgsqlConnectionStringBuilder(connectionString));
    }

    private static DbContextOptions<T> Options<T>(string connectionString) where T : DbContext =>
        new DbContextOptionsBuilder<T>().UseNpgsql(connectionString).Options;

    // Fails with the first lines that differ, rather than two dumps of a few hundred lines each.
    private static void AssertSame(string expected, string actual, string what)
    {
        if (expected == actual)
        {
            return;
        }
        string[] expectedLines = expected.Split('\n'), actualLines = actual.Split('\n');
        var first = Enumerable.Range(0, Math.Min(expectedLines.Length, actualLines.Length))
            .FirstOrDefault(i => expectedLines[i] != actualLines[i], Math.Min(expectedLines.Length, actualLines.Length));
        string Around(string[] lines) => string.Join('\n', lines.Skip(Math.Max(0, first - 5)).Take(15));
        Assert.Fail($"{what}: the schema differs from line {first + 1} of pg_dump's output.\n" +
            $"--- expected ---\n{Around(expectedLines)}\n--- actual ---\n{Around(actualLines)}");
    }

    private sealed class ServiceDatabase(DbContext context, NpgsqlConnectionStringBuilder connection) : IAsyncDisposable
    {
        public IReadOnlyList<string> Migrations { get; } = context.Database.GetMigrations().ToList();

        // null: the latest migration; Migration.InitialDatabase: before the first.
        public Task MigrateAsync(string? target) => context.GetService<IMigrator>().MigrateAsync(target, Cancel);

        // The whole database, schema and rows (seed rows and the migrations history), as pg_dump prints it.
        public async Task<string> DumpAsync()
        {
            var start = new ProcessStartInfo(PgDump) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])["--host", connection.Host!, "--port", connection.Port.ToString(), "--username", connection.Username!, connection.Database!])
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["PGPASSWORD"] = connection.Password;
            using var dump = Process.Start(start)!;
            var output = dump.StandardOutput.ReadToEndAsync(Cancel);
            var errors = dump.StandardError.ReadToEndAsync(Cancel);
            await dump.WaitForExitAsync(Cancel);
            Assert.True(dump.ExitCode == 0, $"pg_dump {connection.Database} failed: {await errors}");
            // pg_dump 15.14 and later fence the script with a random \restrict key.
            return string.Join('\n', (await output).Split('\n').Where(line => !line.StartsWith(@"\restrict ") && !line.StartsWith(@"\unrestrict ")));
        }

        public ValueTask DisposeAsync() => context.DisposeAsync();

        // The newest Postgres installed, as the test servers are (Gateway.Hosting's ServerBinaries).
        private static string PgDump =>
            Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => int.TryParse(Path.GetFileName(d), out _))
                .OrderByDescending(d => int.Parse(Path.GetFileName(d)))
                .Select(d => Path.Combine(d, "bin", "pg_dump"))
                .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("pg_dump is not installed (/usr/lib/postgresql/<version>/bin): apt-get install -y postgresql");
    }
}
