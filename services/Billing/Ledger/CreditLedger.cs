using Npgsql;
using NpgsqlTypes;

namespace Gateway.Billing.Ledger;

// The ledger's operations. Each is one call to a Postgres function (created by the migrations' scripts in
// Infrastructure/Migrations/Sql) in its own transaction; the database, not this class, decides whether
// credits are available.
public sealed class CreditLedger : IDisposable
{
    private const string UniqueViolation = "23505";
    private const int MaxBatch = 64;
    private const int Writers = 2;

    private readonly NpgsqlDataSource _database;
    private readonly GroupCommit<Operation> _batches;

    public CreditLedger(NpgsqlDataSource database, LedgerMetrics metrics)
    {
        _database = database;
        // Holds and captures, the operations every chat makes, are group-committed together. Two writers:
        // while one batch commits, the next one fills (measured in bench/Billing.Bench: more writers make
        // smaller batches, and on one hot wallet they only wait on each other's row lock). Counted where
        // the transaction committed, so a caller that stopped waiting does not hide it.
        _batches = new GroupCommit<Operation>(Writers, MaxBatch,
            async batch => (await RunBatchAsync(batch)).Select((result, i) => Counted(metrics, batch[i], result)).ToArray(),
            async operation => Counted(metrics, operation, await RunOneAsync(operation)));
    }

    public Task<TransferResult> GrantAsync(Guid transferId, Guid userId, long amount, string reason, Guid? organizationId = null, CancellationToken cancellationToken = default) =>
        CreditAsync(transferId, TransferKind.Grant, SystemAccounts.Promotions, userId, amount, reason, organizationId, cancellationToken);

    public Task<TransferResult> PurchaseAsync(Guid transferId, Guid userId, long amount, string reason, CancellationToken cancellationToken = default) =>
        CreditAsync(transferId, TransferKind.Purchase, SystemAccounts.Issuance, userId, amount, reason, null, cancellationToken);

    public Task<TransferResult> RefundAsync(Guid transferId, Guid userId, long amount, string reason, CancellationToken cancellationToken = default) =>
        CreditAsync(transferId, TransferKind.Refund, SystemAccounts.Revenue, userId, amount, reason, null, cancellationToken);

    // A correction is a new transfer in either direction, never an edit: positive adds, negative takes
    // back (only from what is available).
    public Task<TransferResult> CorrectAsync(Guid transferId, Guid userId, long amount, string reason, CancellationToken cancellationToken = default) =>
        amount >= 0
            ? CreditAsync(transferId, TransferKind.Correction, SystemAccounts.Promotions, userId, amount, reason, null, cancellationToken)
            : RunAsync("SELECT * FROM ledger_debit_wallet($1, 'correction', $2, $3, $4, $5)", cancellationToken,
                transferId, userId, SystemAccounts.Promotions, Positive(-amount), Clip(reason));

    // A hold for a holder (a running Chat) goes back once the holder stops renewing it (HoldSweeper).
    public Task<TransferResult> ReserveAsync(Guid holdId, Guid userId, long amount, DateTimeOffset expiresAt, string reason, Guid? holder = null, CancellationToken cancellationToken = default) =>
        _batches.RunAsync(new Operation(OperationKind.Hold, holdId, userId, Positive(amount), expiresAt.ToUniversalTime(), Clip(reason), null, holder), cancellationToken);

    public Task<TransferResult> CaptureAsync(Guid transferId, Guid holdId, long amount, string reason, Usage? usage = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        return _batches.RunAsync(new Operation(OperationKind.Capture, transferId, holdId, amount, null, Clip(reason), usage, null), cancellationToken);
    }

    // The requester's cancellation of its reservation: releases the hold, or, if it has not been made yet,
    // makes sure it never is (NoHold).
    public Task<TransferResult> ReleaseAsync(Guid transferId, Guid holdId, Guid userId, string reason, CancellationToken cancellationToken = default) =>
        RunAsync("SELECT * FROM ledger_cancel($1, $2, $3, $4)", cancellationToken, transferId, holdId, userId, Clip(reason));

    public Task<TransferResult> ExpireAsync(Guid holdId, CancellationToken cancellationToken = default) =>
        ResolveAsync(TransferIds.For("expiry", holdId), holdId, TransferKind.Expiry, "Hold expired", cancellationToken);

    // Whether the user's wallet exists: their first credit (the sign-up grant, else a purchase) makes it.
    public async Task<bool> WalletExistsAsync(Guid userId, CancellationToken cancellationToken)
    {
        await using var command = _database.CreateCommand("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND kind = 'wallet')");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<WalletBalance> BalanceAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        await using var command = _database.CreateCommand("SELECT balance, held FROM accounts WHERE id = $1 AND kind = 'wallet'");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new WalletBalance(reader.GetInt64(0), reader.GetInt64(1))
            : new WalletBalance(0, 0);
    }

    private Task<TransferResult> CreditAsync(Guid transferId, TransferKind kind, Guid from, Guid userId, long amount, string reason, Guid? organizationId, CancellationToken cancellationToken) =>
        RunAsync("SELECT * FROM ledger_credit_wallet($1, $2, $3, $4, $5, $6, $7)", cancellationToken,
            transferId, kind.Name(), from, userId, Positive(amount), Clip(reason), organizationId);

    private Task<TransferResult> ResolveAsync(Guid transferId, Guid holdId, TransferKind kind, string reason, CancellationToken cancellationToken) =>
        RunAsync("SELECT * FROM ledger_resolve($1, $2, $3, NULL, $4, NULL, NULL, NULL)", cancellationToken,
            transferId, holdId, kind.Name(), Clip(reason));

    private async Task<TransferResult> RunAsync(string sql, CancellationToken cancellationToken, params object?[] arguments)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = _database.CreateCommand(sql);
                foreach (var argument in arguments)
                {
                    command.Parameters.Add(argument is null
                        ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Unknown }
                        : new NpgsqlParameter { Value = argument });
                }
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                return Read(reader);
            }
            catch (PostgresException ex) when (ex.SqlState == UniqueViolation && attempt < 3)
            {
                // Someone committed the same transfer id (or resolved the same hold) first; the next call answers with theirs.
            }
        }
    }

    private Task<TransferResult> RunOneAsync(Operation operation) => operation.Kind == OperationKind.Hold
        ? RunAsync("SELECT * FROM ledger_hold($1, $2, $3, $4, $5, $6)", CancellationToken.None,
            operation.Id, operation.Target, operation.Amount, operation.ExpiresAt, operation.Reason, operation.Holder)
        : RunAsync("SELECT * FROM ledger_resolve($1, $2, 'capture', $3, $4, $5, $6, $7)", CancellationToken.None,
            operation.Id, operation.Target, operation.Amount, operation.Reason, operation.Usage?.Model, operation.Usage?.InputTokens, operation.Usage?.OutputTokens);

    private async Task<TransferResult[]> RunBatchAsync(IReadOnlyList<Operation> batch)
    {
        await using var command = _database.CreateCommand("SELECT * FROM ledger_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Kind == OperationKind.Hold).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Target).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Amount).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.ExpiresAt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Reason).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Usage?.Model).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Usage?.InputTokens).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Usage?.OutputTokens).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(o => o.Holder).ToArray() });
        var results = new TransferResult[batch.Count];
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            results[reader.GetInt32(0) - 1] = Read(reader, offset: 1);
        }
        return results.All(r => r is not null) ? results : throw new InvalidOperationException("A batch answered fewer results than it was given.");
    }

    private static TransferResult Counted(LedgerMetrics metrics, Operation operation, TransferResult result) =>
        operation.Kind == OperationKind.Hold ? metrics.Reserved(result) : metrics.Captured(result);

    private static TransferResult Read(NpgsqlDataReader row, int offset = 0) => new(
        Enum.Parse<TransferOutcome>(row.GetString(offset).Replace("_", ""), ignoreCase: true),
        row.GetGuid(offset + 1),
        Enum.Parse<TransferKind>(row.GetString(offset + 2), ignoreCase: true),
        row.IsDBNull(offset + 3) ? 0 : row.GetInt64(offset + 3),
        row.IsDBNull(offset + 4) ? 0 : row.GetInt64(offset + 4),
        row.IsDBNull(offset + 5) ? 0 : row.GetInt64(offset + 5),
        row.IsDBNull(offset + 6) ? null : row.GetFieldValue<DateTimeOffset>(offset + 6),
        row.IsDBNull(offset + 7) ? null : Enum.Parse<TransferKind>(row.GetString(offset + 7), ignoreCase: true));

    public void Dispose()
    {
        _batches.Complete();
    }

    private enum OperationKind { Hold, Capture }

    // A hold (Id = the hold, Target = the wallet) or a capture (Id = the transfer, Target = the hold).
    private sealed record Operation(OperationKind Kind, Guid Id, Guid Target, long Amount, DateTimeOffset? ExpiresAt, string Reason, Usage? Usage, Guid? Holder);

    // Reasons are shown to users in their history; a long one is cut, not refused.
    private static string Clip(string reason) => reason.Length <= 200 ? reason : reason[..200];

    private static long Positive(long amount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount);
        return amount;
    }
}

// Cancelled: a hold its requester had already cancelled; it was not made (or released as it was made).
public enum TransferOutcome { Created, Exists, Conflict, Insufficient, Cancelled, NoHold, Resolved }

// Balance and Held are the wallet's after the operation (its current ones when the outcome is not Created).
public sealed record TransferResult(
    TransferOutcome Outcome, Guid TransferId, TransferKind Kind, long Amount, long Balance, long Held,
    DateTimeOffset? ExpiresAt, TransferKind? ResolvedBy)
{
    public long Available => Balance - Held;

    // Created now or before: either way the transfer exists exactly once.
    public bool Applied => Outcome is TransferOutcome.Created or TransferOutcome.Exists;
}

public sealed record WalletBalance(long Balance, long Held)
{
    public long Available => Balance - Held;
}

public sealed record Usage(string Model, long InputTokens, long OutputTokens);
