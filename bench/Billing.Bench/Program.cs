// What one reservation costs, measured against Postgres's own ceiling in the same run:
//   baseline  pgbench single-row UPDATE (one hot row; 10,000 rows)
//   ledger    reserve+capture pairs called directly (one hot wallet; 10,000 wallets)
//   service   reservations over RabbitMQ to the running Billing service, sent as Chat sends them (its ReservationBatches:
//             concurrent callers' holds share ReserveCreditsBatch messages, not written to the broker's disk, living as
//             long as they are waited for); and, for comparison, one message per reservation as Chat sent them until
//             2026-12-07
// and at the end: overdrawn wallets (must be 0) and the ledger's audit (must hold).
// Usage: dotnet run -c Release --project bench/Billing.Bench [-- --seconds 10 --clients 32]
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Billing.Ledger;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using Gateway.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

var seconds = Argument("--seconds", 10);
var clients = Argument("--clients", 32);
const int SpreadWallets = 10_000;

Console.WriteLine("Starting Postgres, Redis, RabbitMQ and the Billing service …");
var infrastructure = new GatewayInfrastructure();
await infrastructure.InitializeAsync();
try
{
    await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Billing],
        configureServices: (_, services) => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)),
        settings: new Dictionary<string, string?> { ["Billing:Ledger:SignUpGrant"] = "0" });
    var billing = system[GatewayService.Billing].Provider;
    var ledger = billing.GetRequiredService<CreditLedger>();
    var database = billing.GetRequiredService<NpgsqlDataSource>();
    var bus = billing.GetRequiredService<IBus>();
    var connectionString = system.Resources.Database("billingdb");

    Console.WriteLine($"{clients} concurrent callers, {seconds} s a run, {Environment.ProcessorCount} cores (shared), load average {LoadAverage()}");
    Console.WriteLine();

    var pgbenchHot = await PgBenchAsync("UPDATE bench_rows SET balance = balance + 1 WHERE id = 1;", rows: 1);
    var pgbenchSpread = await PgBenchAsync($"\\set id random(1, {SpreadWallets})\nUPDATE bench_rows SET balance = balance + 1 WHERE id = :id;", rows: SpreadWallets);
    Report("baseline: pgbench UPDATE, one row", new Run(pgbenchHot, 0, 0, 0), "tx/s");
    Report($"baseline: pgbench UPDATE, {SpreadWallets:N0} rows", new Run(pgbenchSpread, 0, 0, 0), "tx/s");

    var hotWallet = Guid.NewGuid();
    await ledger.GrantAsync(Guid.NewGuid(), hotWallet, 1_000_000_000_000, "Bench");
    var wallets = Enumerable.Range(0, SpreadWallets).Select(_ => Guid.NewGuid()).ToArray();
    await Parallel.ForEachAsync(wallets, new ParallelOptions { MaxDegreeOfParallelism = clients },
        async (wallet, ct) => await ledger.GrantAsync(Guid.NewGuid(), wallet, 1_000_000_000, "Bench", cancellationToken: ct));

    var ledgerHot = await MeasureAsync(_ => hotWallet, PairAsync);
    Report("ledger: reserve+capture, one hot wallet", ledgerHot, "pairs/s");
    var ledgerSpread = await MeasureAsync(random => wallets[random.Next(wallets.Length)], PairAsync);
    Report($"ledger: reserve+capture, {SpreadWallets:N0} wallets", ledgerSpread, "pairs/s");

    using var batches = new ReservationBatches(bus, Options.Create(new ChatServiceOptions()), TimeProvider.System);
    var reserve = bus.CreateRequestClient<ReserveCreditsBatch>(RequestTimeout.After(s: 30));
    // The first requests create the response queues and warm the consumer; keep them out of the figures.
    await Task.WhenAll(Enumerable.Range(0, clients * 4).Select(i => ReserveOneByOneAsync(reserve, wallets[i])));
    await Task.WhenAll(Enumerable.Range(0, clients * 4).Select(i => ReserveAsChatAsync(batches, wallets[i])));
    var serviceHot = await MeasureAsync(_ => hotWallet, wallet => ReserveAsChatAsync(batches, wallet));
    Report("service: ReserveCredits over RabbitMQ, hot", serviceHot, "reservations/s");
    var serviceSpread = await MeasureAsync(random => wallets[random.Next(wallets.Length)], wallet => ReserveAsChatAsync(batches, wallet));
    Report($"service: ReserveCredits over RabbitMQ, {SpreadWallets:N0}", serviceSpread, "reservations/s");
    var oneByOne = await MeasureAsync(random => wallets[random.Next(wallets.Length)], wallet => ReserveOneByOneAsync(reserve, wallet));
    Report($"  the same, a message per reservation", oneByOne, "reservations/s");

    Console.WriteLine();
    Console.WriteLine($"ledger pairs/s ÷ pgbench tx/s:         hot {ledgerHot.PerSecond / pgbenchHot:0.00}   spread {ledgerSpread.PerSecond / pgbenchSpread:0.00}");
    Console.WriteLine($"service reservations/s ÷ pgbench tx/s: hot {serviceHot.PerSecond / pgbenchHot:0.00}   spread {serviceSpread.PerSecond / pgbenchSpread:0.00} (a message each: {oneByOne.PerSecond / pgbenchSpread:0.00})");
    Console.WriteLine($"targets (issue 5): pairs/s ≥ 2,000 hot: {Met(ledgerHot.PerSecond >= 2000)}; ≥ 5,000 spread: {Met(ledgerSpread.PerSecond >= 5000)}");

    // Overdraft is impossible by construction (a CHECK on every wallet); this shows it held, and the books.
    var overdrawn = (long)(await database.CreateCommand("SELECT count(*) FROM accounts WHERE balance - held < 0").ExecuteScalarAsync())!;
    var audit = await billing.GetRequiredService<LedgerAudit>().RunAsync();
    Console.WriteLine($"overdrawn wallets: {overdrawn}; audit balanced: {audit.Balanced} over {audit.Accounts:N0} accounts");
    return overdrawn == 0 && audit.Balanced ? 0 : 1;

    async Task<bool> PairAsync(Guid wallet)
    {
        var holdId = Guid.CreateVersion7();
        var hold = await ledger.ReserveAsync(holdId, wallet, 3, DateTimeOffset.UtcNow.AddMinutes(5), "Bench");
        var capture = await ledger.CaptureAsync(Guid.CreateVersion7(), holdId, 2, "Bench");
        return hold.Outcome == TransferOutcome.Created && capture.Outcome == TransferOutcome.Created;
    }

    async Task<double> PgBenchAsync(string script, int rows)
    {
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await new NpgsqlCommand($"""
                DROP TABLE IF EXISTS bench_rows;
                CREATE TABLE bench_rows (id int PRIMARY KEY, balance bigint NOT NULL);
                INSERT INTO bench_rows SELECT g, 0 FROM generate_series(1, {rows}) g;
                """, setup).ExecuteNonQueryAsync();
            await new NpgsqlCommand("VACUUM ANALYZE bench_rows", setup).ExecuteNonQueryAsync();
        }
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, script + "\n");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo("pgbench", ["-n", "-h", builder.Host!, "-p", builder.Port.ToString(), "-U", builder.Username!,
            "-c", clients.ToString(), "-j", "2", "-T", seconds.ToString(), "-f", file, builder.Database!])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PGPASSWORD"] = builder.Password;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        File.Delete(file);
        var tps = Regex.Match(output, @"tps = ([\d.]+)");
        return tps.Success ? double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException($"pgbench failed: {output}{errors}");
    }
}
finally
{
    await infrastructure.DisposeAsync();
}

static async Task<bool> ReserveAsChatAsync(ReservationBatches batches, Guid wallet)
{
    var hold = new ReserveCredits(Guid.CreateVersion7(), wallet, 1, "Bench", TimeSpan.FromMinutes(5));
    var answer = await batches.ReserveAsync([hold], CancellationToken.None);
    return answer.Reserved.Any(reserved => reserved.ReservationId == hold.ReservationId);
}

static async Task<bool> ReserveOneByOneAsync(IRequestClient<ReserveCreditsBatch> client, Guid wallet)
{
    var response = await client.GetResponse<CreditsReservedBatch>(
        new ReserveCreditsBatch([new ReserveCredits(Guid.CreateVersion7(), wallet, 1, "Bench", TimeSpan.FromMinutes(5))]),
        request => request.UseExecute(context =>
        {
            context.Durable = false;
            context.TimeToLive = TimeSpan.FromSeconds(30);
        }));
    return response.Message.Reserved.Count == 1;
}

async Task<Run> MeasureAsync(Func<Random, Guid> pickWallet, Func<Guid, Task<bool>> operation)
{
    var latencies = new List<double>[clients];
    var failures = 0;
    var stop = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
    {
        var random = new Random(client);
        var mine = latencies[client] = new List<double>(100_000);
        while (stop.Elapsed < until)
        {
            var started = Stopwatch.GetTimestamp();
            if (!await operation(pickWallet(random)))
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

static void Report(string name, Run run, string unit) =>
    Console.WriteLine($"{name,-46} {run.PerSecond,9:N0} {unit,-15}" + (run.P50 == 0 ? "" : $" p50 {run.P50,6:0.0} ms  p99 {run.P99,6:0.0} ms  refused {run.Failures}"));

static string Met(bool met) => met ? "met" : "NOT met";

static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

int Argument(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1]) : fallback;
}

internal sealed record Run(double PerSecond, double P50, double P99, int Failures);
