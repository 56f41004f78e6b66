// Reserve+capture pairs per second against the ledger on Postgres, on one hot wallet and spread over
// 10,000 wallets, next to pgbench's single-row UPDATE on the same server in the same run.
// Usage: dotnet run -c Release --project bench/Billing.Bench [-- --seconds 10 --clients 32]
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Billing.Infrastructure;
using Gateway.Billing.Ledger;
using Gateway.Hosting.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var seconds = Argument("--seconds", 10);
var clients = Argument("--clients", 32);
const int SpreadWallets = 10_000;

var root = Path.Combine(Path.GetTempPath(), $"billing-bench-{Environment.ProcessId}");
Console.WriteLine($"Starting Postgres under {root} …");
await using var postgres = await PostgresServer.StartAsync(new PostgresServerOptions(Path.Combine(root, "postgres")), NullLogger.Instance);
var connectionString = postgres.ConnectionString("billingbench") + $";Maximum Pool Size={clients + 8};No Reset On Close=true";

await using (var db = new BillingDbContext(new DbContextOptionsBuilder<BillingDbContext>().UseNpgsql(connectionString).Options))
{
    await db.Database.MigrateAsync();
}
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var ledger = new Ledger(dataSource);

Console.WriteLine($"{clients} clients, {seconds} s a run, {Environment.ProcessorCount} cores, Postgres {postgres.Port}");
Console.WriteLine();

var pgbenchHot = await PgBenchAsync(postgres, "UPDATE bench_rows SET balance = balance + 1 WHERE id = 1;", rows: 1);
var pgbenchSpread = await PgBenchAsync(postgres, $"\\set id random(1, {SpreadWallets})\nUPDATE bench_rows SET balance = balance + 1 WHERE id = :id;", rows: SpreadWallets);
Report("pgbench UPDATE, one row", pgbenchHot, "tx/s");
Report($"pgbench UPDATE, {SpreadWallets:N0} rows", pgbenchSpread, "tx/s");

var hotWallet = Guid.NewGuid();
await ledger.GrantAsync(Guid.NewGuid(), hotWallet, 1_000_000_000_000, "Bench");
var hot = await PairsAsync(_ => hotWallet);
Report("ledger reserve+capture, one hot wallet", hot.PerSecond, "pairs/s", hot);

var wallets = Enumerable.Range(0, SpreadWallets).Select(_ => Guid.NewGuid()).ToArray();
await Parallel.ForEachAsync(wallets, new ParallelOptions { MaxDegreeOfParallelism = clients },
    async (wallet, ct) => await ledger.GrantAsync(Guid.NewGuid(), wallet, 1_000_000_000, "Bench", cancellationToken: ct));
var spread = await PairsAsync(random => wallets[random.Next(wallets.Length)]);
Report($"ledger reserve+capture, {SpreadWallets:N0} wallets", spread.PerSecond, "pairs/s", spread);

Console.WriteLine();
Console.WriteLine($"ratio hot    (pairs/s ÷ pgbench one-row tx/s):   {hot.PerSecond / pgbenchHot:0.00}   (target pairs/s ≥ 2,000: {(hot.PerSecond >= 2000 ? "met" : "NOT met")})");
Console.WriteLine($"ratio spread (pairs/s ÷ pgbench 10k-row tx/s):   {spread.PerSecond / pgbenchSpread:0.00}   (target pairs/s ≥ 5,000: {(spread.PerSecond >= 5000 ? "met" : "NOT met")})");

// Overdraft is impossible by construction (a CHECK on every wallet); this proves it held, and the books.
var overdrawn = (long)(await dataSource.CreateCommand("SELECT count(*) FROM accounts WHERE balance - held < 0").ExecuteScalarAsync())!;
var audit = await new LedgerAudit(dataSource).RunAsync();
Console.WriteLine($"overdrawn wallets: {overdrawn}; audit balanced: {audit.Balanced} over {audit.Accounts:N0} accounts, {audit.TotalDebits:N0} credits moved");
Directory.Delete(root, recursive: true);
return overdrawn == 0 && audit.Balanced ? 0 : 1;

async Task<Run> PairsAsync(Func<Random, Guid> pickWallet)
{
    var latencies = new List<double>[clients];
    var stop = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    var failures = 0;
    await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
    {
        var random = new Random(client);
        var mine = latencies[client] = new List<double>(100_000);
        while (stop.Elapsed < until)
        {
            var started = Stopwatch.GetTimestamp();
            var holdId = Guid.CreateVersion7();
            var hold = await ledger.ReserveAsync(holdId, pickWallet(random), 3, DateTimeOffset.UtcNow.AddMinutes(5), "Bench");
            var capture = await ledger.CaptureAsync(Guid.CreateVersion7(), holdId, 2, "Bench");
            if (hold.Outcome != TransferOutcome.Created || capture.Outcome != TransferOutcome.Created)
            {
                Interlocked.Increment(ref failures);
            }
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Run(all.Length / elapsed, all[all.Length / 2], all[(int)(all.Length * 0.99)], failures);
}

async Task<double> PgBenchAsync(PostgresServer server, string script, int rows)
{
    await using (var setup = new NpgsqlConnection(server.ConnectionString("billingbench")))
    {
        await setup.OpenAsync();
        await new NpgsqlCommand($"""
            DROP TABLE IF EXISTS bench_rows;
            CREATE TABLE bench_rows (id int PRIMARY KEY, balance bigint NOT NULL);
            INSERT INTO bench_rows SELECT g, 0 FROM generate_series(1, {rows}) g;
            """, setup).ExecuteNonQueryAsync();
        await new NpgsqlCommand("VACUUM ANALYZE bench_rows", setup).ExecuteNonQueryAsync();
    }
    var file = Path.Combine(root, "pgbench.sql");
    await File.WriteAllTextAsync(file, script + "\n");
    var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString("billingbench"));
    var start = new ProcessStartInfo("pgbench", ["-n", "-h", "127.0.0.1", "-p", server.Port.ToString(), "-U", builder.Username!,
        "-c", clients.ToString(), "-j", "2", "-T", seconds.ToString(), "-f", file, "billingbench"])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    start.Environment["PGPASSWORD"] = builder.Password;
    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    var errors = await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    var tps = Regex.Match(output, @"tps = ([\d.]+)");
    return tps.Success ? double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"pgbench failed: {output}{errors}");
}

static void Report(string name, double perSecond, string unit, Run? run = null) =>
    Console.WriteLine($"{name,-42} {perSecond,10:N0} {unit}" + (run is null ? "" : $"   pair p50 {run.P50:0.0} ms, p99 {run.P99:0.0} ms, refused {run.Failures}"));

int Argument(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1]) : fallback;
}

sealed record Run(double PerSecond, double P50, double P99, int Failures);
