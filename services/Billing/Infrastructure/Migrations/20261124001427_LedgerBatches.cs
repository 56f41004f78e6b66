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
            migrationBuilder.SqlScript("20261124001427_LedgerBatches.up.sql");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261124001427_LedgerBatches.down.sql");
        }
    }
}
