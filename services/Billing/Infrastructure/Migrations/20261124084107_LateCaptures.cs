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
            migrationBuilder.SqlScript("20261124084107_LateCaptures.up.sql");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261124084107_LateCaptures.down.sql");
        }
    }
}
