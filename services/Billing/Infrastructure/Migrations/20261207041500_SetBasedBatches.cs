using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Billing.Infrastructure.Migrations
{
    /// <summary>
    /// ledger_batch applies a batch's common operations set-based (a few statements for all of them: captures within
    /// their hold, holds on wallets that can take them all) and only the rest one by one (issue 22).
    /// </summary>
    public partial class SetBasedBatches : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261207041500_SetBasedBatches.up.sql");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261207041500_SetBasedBatches.down.sql");
        }
    }
}
