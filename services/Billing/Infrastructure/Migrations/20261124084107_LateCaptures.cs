using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Billing.Infrastructure.Migrations
{
    /// <summary>
    /// A capture that arrives after its hold expired is charged (ledger_capture_late: from what is available,
    /// never beyond it, once per hold) instead of refused; a batch orders such a capture by its wallet too.
    /// </summary>
    public partial class LateCaptures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(LedgerSql.Functions);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // ledger_resolve keeps its new body; a late capture charges nothing again, as before, answering that
            // the hold was resolved by its expiry.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION ledger_capture_late(p_wallet uuid, p_hold uuid, p_amount bigint, p_reason text,
                                                               p_model text, p_input bigint, p_output bigint)
                RETURNS ledger_result LANGUAGE sql STABLE AS $$
                    SELECT 'resolved', NULL::uuid, 'capture', 0::bigint, a.balance, a.held, NULL::timestamptz, 'expiry'
                    FROM accounts a WHERE a.id = p_wallet
                $$;
                """);
        }
    }
}
