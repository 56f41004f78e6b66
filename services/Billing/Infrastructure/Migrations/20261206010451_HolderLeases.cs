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

            migrationBuilder.SqlScript("20261206010451_HolderLeases.up.sql");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261206010451_HolderLeases.down.sql");

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
