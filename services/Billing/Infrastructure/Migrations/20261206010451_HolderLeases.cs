using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Billing.Infrastructure.Migrations
{
    /// <summary>
    /// Holds name their holder (a running Chat) and when they were made, so that a holder gone silent has its holds
    /// released (holder_leases, HoldSweeper); a reservation cancelled before it was made is remembered so it never is
    /// (cancelled_reservations, ledger_cancel). ledger_hold and ledger_batch take the holder.
    /// </summary>
    public partial class HolderLeases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "created_at",
                table: "open_holds",
                type: "timestamp with time zone",
                nullable: false,
                defaultValueSql: "now()");

            migrationBuilder.AddColumn<Guid>(
                name: "holder",
                table: "open_holds",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "cancelled_reservations",
                columns: table => new
                {
                    reservation_id = table.Column<Guid>(type: "uuid", nullable: false),
                    cancelled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cancelled_reservations", x => x.reservation_id);
                });

            migrationBuilder.CreateTable(
                name: "holder_leases",
                columns: table => new
                {
                    holder = table.Column<Guid>(type: "uuid", nullable: false),
                    renewed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_holder_leases", x => x.holder);
                });

            migrationBuilder.CreateIndex(
                name: "IX_cancelled_reservations_cancelled_at",
                table: "cancelled_reservations",
                column: "cancelled_at");

            migrationBuilder.Sql("""
                DROP FUNCTION IF EXISTS ledger_hold(uuid, uuid, bigint, timestamptz, text);
                DROP FUNCTION IF EXISTS ledger_batch(boolean[], uuid[], uuid[], bigint[], timestamptz[], text[], text[], bigint[], bigint[]);
                """);
            migrationBuilder.Sql(LedgerSql.Functions);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The functions as they were before holders.
            migrationBuilder.Sql("""
                DROP FUNCTION IF EXISTS ledger_cancel(uuid, uuid, uuid, text);
                DROP FUNCTION IF EXISTS ledger_batch(boolean[], uuid[], uuid[], bigint[], timestamptz[], text[], text[], bigint[], bigint[], uuid[]);
                DROP FUNCTION IF EXISTS ledger_hold(uuid, uuid, bigint, timestamptz, text, uuid);
                CREATE OR REPLACE FUNCTION ledger_hold(p_id uuid, p_wallet uuid, p_amount bigint, p_expires_at timestamptz, p_reason text)
                RETURNS ledger_result LANGUAGE plpgsql AS $$
                DECLARE t transfers; a accounts;
                BEGIN
                    WITH wallet AS (
                        UPDATE accounts SET held = held + p_amount
                        WHERE id = p_wallet AND kind = 'wallet' AND balance - held >= p_amount
                          AND NOT EXISTS (SELECT 1 FROM transfers WHERE id = p_id)
                        RETURNING *),
                    entry AS (
                        INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, wallet_id, expires_at, reason, created_at)
                        SELECT p_id, 'hold', p_wallet, '00000000-0000-0000-0000-000000000003', p_amount, p_wallet, p_expires_at, p_reason, now()
                        FROM wallet),
                    open_hold AS (
                        INSERT INTO open_holds (hold_id, wallet_id, amount, expires_at)
                        SELECT p_id, p_wallet, p_amount, p_expires_at FROM wallet)
                    SELECT * INTO a FROM wallet;
                    IF FOUND THEN
                        RETURN ('created', p_id, 'hold', p_amount, a.balance, a.held, p_expires_at, NULL)::ledger_result;
                    END IF;

                    SELECT * INTO t FROM transfers WHERE id = p_id;
                    IF FOUND THEN RETURN ledger_existing(t, 'hold', p_wallet, p_amount, NULL); END IF;
                    SELECT * INTO a FROM accounts WHERE id = p_wallet;
                    RETURN ('insufficient', p_id, 'hold', p_amount, COALESCE(a.balance, 0), COALESCE(a.held, 0), NULL, NULL)::ledger_result;
                END $$;
                CREATE OR REPLACE FUNCTION ledger_batch(p_is_hold boolean[], p_ids uuid[], p_targets uuid[], p_amounts bigint[], p_expires timestamptz[],
                                                        p_reasons text[], p_models text[], p_inputs bigint[], p_outputs bigint[])
                RETURNS TABLE (ordinal int, outcome text, transfer_id uuid, kind text, amount bigint, balance bigint, held bigint,
                               expires_at timestamptz, resolved_by text)
                LANGUAGE plpgsql AS $$
                DECLARE i int; r ledger_result;
                BEGIN
                    FOR i IN SELECT s.i FROM generate_subscripts(p_ids, 1) AS s(i)
                             ORDER BY CASE WHEN p_is_hold[s.i] THEN p_targets[s.i]
                                           ELSE COALESCE((SELECT o.wallet_id FROM open_holds o WHERE o.hold_id = p_targets[s.i]),
                                                         (SELECT t.wallet_id FROM transfers t WHERE t.pending_id = p_targets[s.i])) END NULLS LAST,
                                      p_ids[s.i] LOOP
                        -- Assignments, not queries: plpgsql evaluates a lone function call without starting an executor.
                        IF p_is_hold[i] THEN
                            r := ledger_hold(p_ids[i], p_targets[i], p_amounts[i], p_expires[i], p_reasons[i]);
                        ELSE
                            r := ledger_resolve(p_ids[i], p_targets[i], 'capture', p_amounts[i], p_reasons[i], p_models[i], p_inputs[i], p_outputs[i]);
                        END IF;
                        ordinal := i; outcome := r.outcome; transfer_id := r.transfer_id; kind := r.kind; amount := r.amount;
                        balance := r.balance; held := r.held; expires_at := r.expires_at; resolved_by := r.resolved_by;
                        RETURN NEXT;
                    END LOOP;
                END $$;
                """);

            migrationBuilder.DropTable(
                name: "cancelled_reservations");

            migrationBuilder.DropTable(
                name: "holder_leases");

            migrationBuilder.DropColumn(
                name: "created_at",
                table: "open_holds");

            migrationBuilder.DropColumn(
                name: "holder",
                table: "open_holds");
        }
    }
}
