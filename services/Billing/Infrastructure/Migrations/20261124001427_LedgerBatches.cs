using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Billing.Infrastructure.Migrations
{
    /// <summary>
    /// Holds and captures committed together in one batch function (ledger_batch), replacing one batch
    /// function for each; ledger_hold and ledger_resolve rewritten to fewer statements (same results).
    /// </summary>
    public partial class LedgerBatches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(LedgerSql.Functions);
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS ledger_hold_batch, ledger_capture_batch;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // ledger_hold and ledger_resolve keep their new bodies, which answer as the old ones did.
            migrationBuilder.Sql("""
                DROP FUNCTION IF EXISTS ledger_batch;

                CREATE FUNCTION ledger_hold_batch(p_ids uuid[], p_wallets uuid[], p_amounts bigint[], p_expires timestamptz[], p_reasons text[])
                RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
                               expires_at timestamptz, resolved_by text)
                LANGUAGE plpgsql AS $$
                DECLARE i int;
                BEGIN
                    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i) ORDER BY p_wallets[s.i], p_ids[s.i] LOOP
                        RETURN QUERY SELECT i, r.* FROM ledger_hold(p_ids[i], p_wallets[i], p_amounts[i], p_expires[i], p_reasons[i]) r;
                    END LOOP;
                END $$;

                CREATE FUNCTION ledger_capture_batch(p_ids uuid[], p_holds uuid[], p_amounts bigint[], p_reasons text[],
                                                     p_models text[], p_inputs bigint[], p_outputs bigint[])
                RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
                               expires_at timestamptz, resolved_by text)
                LANGUAGE plpgsql AS $$
                DECLARE i int;
                BEGIN
                    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i)
                             LEFT JOIN open_holds o ON o.hold_id = p_holds[s.i]
                             ORDER BY o.wallet_id NULLS LAST, p_holds[s.i], p_ids[s.i] LOOP
                        RETURN QUERY SELECT i, r.* FROM ledger_resolve(p_ids[i], p_holds[i], 'capture', p_amounts[i], p_reasons[i],
                                                                     p_models[i], p_inputs[i], p_outputs[i]) r;
                    END LOOP;
                END $$;
                """);
        }
    }
}
