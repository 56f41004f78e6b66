using Npgsql;

namespace Gateway.Billing.Ledger;

// Proves the books from the entries alone: every wallet's cached balance equals the sum of its posted
// transfers and its cached held equals its unresolved holds, and credits and debits add up to zero.
public sealed class LedgerAudit(NpgsqlDataSource database)
{
    private const string Query = """
        WITH posted AS (
            SELECT debit_account_id AS account_id, -amount AS delta, amount AS debit, 0::bigint AS credit
            FROM transfers WHERE kind IN ('grant', 'purchase', 'capture', 'refund', 'correction')
            UNION ALL
            SELECT credit_account_id, amount, 0, amount
            FROM transfers WHERE kind IN ('grant', 'purchase', 'capture', 'refund', 'correction')
        ), entries AS (
            SELECT account_id, sum(delta) AS balance, sum(debit) AS debits, sum(credit) AS credits FROM posted GROUP BY account_id
        ), unresolved AS (
            SELECT h.debit_account_id AS account_id, sum(h.amount) AS held
            FROM transfers h
            WHERE h.kind = 'hold' AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = h.id)
            GROUP BY h.debit_account_id
        ), open AS (
            SELECT wallet_id AS account_id, sum(amount) AS held FROM open_holds GROUP BY wallet_id
        )
        SELECT a.id, a.kind, a.code, a.balance, a.held,
               COALESCE(e.balance, 0)::bigint, COALESCE(u.held, 0)::bigint, COALESCE(o.held, 0)::bigint,
               COALESCE(e.debits, 0)::bigint, COALESCE(e.credits, 0)::bigint
        FROM accounts a
        LEFT JOIN entries e ON e.account_id = a.id
        LEFT JOIN unresolved u ON u.account_id = a.id
        LEFT JOIN open o ON o.account_id = a.id
        """;

    public async Task<AuditReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var wrong = new List<AccountDiscrepancy>();
        var systems = new Dictionary<string, long>();
        long debits = 0, credits = 0, total = 0;
        var accounts = 0;

        // One snapshot for the whole report, so a transfer committed meanwhile cannot look like a gap.
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var command = new NpgsqlCommand(Query, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            accounts++;
            var (id, kind, code) = (reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            var (balance, held) = (reader.GetInt64(3), reader.GetInt64(4));
            var (entriesBalance, unresolvedHolds, openHolds) = (reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7));
            debits += reader.GetInt64(8);
            credits += reader.GetInt64(9);
            total += entriesBalance;

            if (kind == "system")
            {
                systems[code ?? id.ToString()] = entriesBalance;
            }
            else if (balance != entriesBalance || held != unresolvedHolds || held != openHolds || balance - held < 0)
            {
                wrong.Add(new AccountDiscrepancy(id, balance, held, entriesBalance, unresolvedHolds, openHolds));
            }
        }

        return new AuditReport(wrong.Count == 0 && debits == credits && total == 0, accounts, debits, credits, systems, wrong);
    }
}

public sealed record AuditReport(
    bool Balanced, int Accounts, long TotalDebits, long TotalCredits,
    IReadOnlyDictionary<string, long> SystemBalances, IReadOnlyList<AccountDiscrepancy> Discrepancies);

public sealed record AccountDiscrepancy(Guid AccountId, long Balance, long Held, long SumOfEntries, long UnresolvedHolds, long OpenHolds);
