using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.Tests;

// ledger_batch applies many holds and captures across many wallets set-based (issue 22). Property: a batch of random
// transfers gives every operation the outcome, and every wallet the balance, that applying them one by one in the
// batch's documented order gives (captures within their hold, the other captures, then the holds, each in the order
// given: Infrastructure/Migrations/Sql/*_SetBasedBatches.up.sql), on a twin set of wallets.
public sealed class LedgerBatchTests(BillingSystem billing) : IClassFixture<BillingSystem>
{
    private const int Wallets = 5;
    private static CancellationToken Cancel => BillingSystem.Cancel;

    private NpgsqlDataSource Database => billing.Billing.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task A_batch_of_random_transfers_across_random_wallets_ends_as_applying_them_one_by_one()
    {
        for (var seed = 1; seed <= 40; seed++)
        {
            await OneRoundAsync(seed);
        }
    }

    private async Task OneRoundAsync(int seed)
    {
        var random = new Random(seed);
        // Twin wallets with the same credits: the batch runs on the first set, one-by-one calls on the second.
        var credits = Enumerable.Range(0, Wallets).Select(_ => (long)random.Next(1, 120)).ToList();
        var batchWallets = new List<Guid>();
        var singleWallets = new List<Guid>();
        foreach (var amount in credits)
        {
            batchWallets.Add(await billing.NewWalletAsync(amount));
            singleWallets.Add(await billing.NewWalletAsync(amount));
        }
        // Holds made before the batch, on both sets, for its captures to take.
        var holds = new List<(Guid Batch, Guid Single, long Amount)>();
        for (var i = 0; i < 6; i++)
        {
            var wallet = random.Next(Wallets);
            var amount = random.Next(1, 40);
            var (batchHold, singleHold) = (Guid.NewGuid(), Guid.NewGuid());
            var made = await HoldAsync(batchHold, batchWallets[wallet], amount);
            await HoldAsync(singleHold, singleWallets[wallet], amount);
            if (made == "created")
            {
                holds.Add((batchHold, singleHold, amount));
            }
        }

        // The batch: holds on random wallets (some repeating an id of the batch), captures of the holds above (some
        // above their hold, some of a hold captured earlier in the batch, some repeating an id) and of unknown holds.
        var ops = new List<Op>();
        var count = random.Next(1, 40);
        for (var i = 0; i < count; i++)
        {
            var repeat = ops.Count > 0 && random.Next(10) == 0 ? ops[random.Next(ops.Count)] : null;
            if (repeat is not null)
            {
                ops.Add(repeat with { Amount = random.Next(2) == 0 ? repeat.Amount : repeat.Amount + 1 });
            }
            else if (random.Next(2) == 0)
            {
                var wallet = random.Next(Wallets);
                ops.Add(new Op(true, Guid.NewGuid(), Guid.NewGuid(), batchWallets[wallet], singleWallets[wallet], random.Next(1, 50)));
            }
            else if (holds.Count > 0 && random.Next(6) > 0)
            {
                var hold = holds[random.Next(holds.Count)];
                ops.Add(new Op(false, Guid.NewGuid(), Guid.NewGuid(), hold.Batch, hold.Single, random.Next(0, (int)hold.Amount * 3 / 2 + 2)));
            }
            else
            {
                var unknown = Guid.NewGuid();
                ops.Add(new Op(false, Guid.NewGuid(), Guid.NewGuid(), unknown, unknown, random.Next(1, 10)));
            }
        }

        var batched = await BatchAsync(ops);
        var single = new Result[ops.Count];
        foreach (var i in OneByOneOrder(ops, holds))
        {
            var op = ops[i];
            single[i] = op.IsHold
                ? await RunAsync("SELECT * FROM ledger_hold($1, $2, $3, now() + interval '5 minutes', 'Chat', NULL)", op.SingleId, op.SingleTarget, op.Amount)
                : await RunAsync("SELECT * FROM ledger_resolve($1, $2, 'capture', $3, 'Usage', 'm', 1, 1)", op.SingleId, op.SingleTarget, op.Amount);
        }

        for (var i = 0; i < ops.Count; i++)
        {
            Assert.True(batched[i] == single[i], $"Seed {seed}, operation {i + 1} of {ops.Count} ({(ops[i].IsHold ? "hold" : "capture")} of {ops[i].Amount}): " +
                $"the batch answered {batched[i]}, one by one {single[i]}.");
        }
        for (var w = 0; w < Wallets; w++)
        {
            Assert.Equal(await billing.BalanceAsync(singleWallets[w]), await billing.BalanceAsync(batchWallets[w]));
        }
    }

    // The order the batch documents: captures within their (open) hold, each hold's first capture, then the other
    // captures, then the holds; each group in the order given.
    private static IEnumerable<int> OneByOneOrder(List<Op> ops, List<(Guid Batch, Guid Single, long Amount)> holds)
    {
        var repeated = ops.GroupBy(o => o.BatchId).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var within = ops.Select((op, i) => (op, i))
            .Where(x => !x.op.IsHold && !repeated.Contains(x.op.BatchId))
            .GroupBy(x => x.op.BatchTarget)
            .Select(g => g.First())
            .Where(x => holds.FirstOrDefault(h => h.Batch == x.op.BatchTarget) is { Amount: var amount } && x.op.Amount <= amount)
            .Select(x => x.i)
            .ToHashSet();
        return [
            .. ops.Select((op, i) => i).Where(within.Contains),
            .. ops.Select((op, i) => (op, i)).Where(x => !x.op.IsHold && !within.Contains(x.i)).Select(x => x.i),
            .. ops.Select((op, i) => (op, i)).Where(x => x.op.IsHold).Select(x => x.i),
        ];
    }

    private async Task<string> HoldAsync(Guid id, Guid wallet, long amount) =>
        (await RunAsync("SELECT * FROM ledger_hold($1, $2, $3, now() + interval '5 minutes', 'Chat', NULL)", id, wallet, amount)).Outcome;

    private async Task<Result> RunAsync(string sql, params object[] arguments)
    {
        await using var command = Database.CreateCommand(sql);
        foreach (var argument in arguments)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = argument });
        }
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        await reader.ReadAsync(Cancel);
        return Read(reader, 0);
    }

    private async Task<Result[]> BatchAsync(List<Op> ops)
    {
        await using var command = Database.CreateCommand("SELECT * FROM ledger_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.BatchId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.BatchTarget).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.Amount).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold ? DateTimeOffset.UtcNow.AddMinutes(5) : (DateTimeOffset?)null).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold ? "Chat" : "Usage").ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold ? null : "m").ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold ? (long?)null : 1).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(o => o.IsHold ? (long?)null : 1).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = ops.Select(_ => (Guid?)null).ToArray() });
        var results = new Result[ops.Count];
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        while (await reader.ReadAsync(Cancel))
        {
            results[reader.GetInt32(0) - 1] = Read(reader, 1);
        }
        Assert.All(results, Assert.NotNull);
        return results;
    }

    // What is compared: not the transfer ids (each set has its own), the rest of what the caller is told.
    private static Result Read(NpgsqlDataReader row, int offset) => new(
        row.GetString(offset),
        row.IsDBNull(offset + 2) ? null : row.GetString(offset + 2),
        row.IsDBNull(offset + 3) ? null : row.GetInt64(offset + 3),
        row.IsDBNull(offset + 4) ? null : row.GetInt64(offset + 4),
        row.IsDBNull(offset + 5) ? null : row.GetInt64(offset + 5),
        row.IsDBNull(offset + 7) ? null : row.GetString(offset + 7));

    private sealed record Op(bool IsHold, Guid BatchId, Guid SingleId, Guid BatchTarget, Guid SingleTarget, long Amount);

    private sealed record Result(string Outcome, string? Kind, long? Amount, long? Balance, long? Held, string? ResolvedBy);
}
