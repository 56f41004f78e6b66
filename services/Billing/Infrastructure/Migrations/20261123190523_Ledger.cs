using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

#pragma warning disable CA1814 // Prefer jagged arrays over multidimensional

namespace Gateway.Billing.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class Ledger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "accounts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    code = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: true),
                    balance = table.Column<long>(type: "bigint", nullable: false),
                    held = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_accounts", x => x.id);
                    table.CheckConstraint("ck_accounts_available", "held >= 0 AND balance - held >= 0");
                    table.CheckConstraint("ck_accounts_system_uncached", "kind = 'wallet' OR (balance = 0 AND held = 0)");
                });

            migrationBuilder.CreateTable(
                name: "open_holds",
                columns: table => new
                {
                    hold_id = table.Column<Guid>(type: "uuid", nullable: false),
                    wallet_id = table.Column<Guid>(type: "uuid", nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_open_holds", x => x.hold_id);
                    table.CheckConstraint("ck_open_holds_amount", "amount > 0");
                });

            migrationBuilder.CreateTable(
                name: "transfers",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    debit_account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    credit_account_id = table.Column<Guid>(type: "uuid", nullable: false),
                    amount = table.Column<long>(type: "bigint", nullable: false),
                    wallet_id = table.Column<Guid>(type: "uuid", nullable: true),
                    pending_id = table.Column<Guid>(type: "uuid", nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    requested = table.Column<long>(type: "bigint", nullable: true),
                    reason = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    model = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    input_tokens = table.Column<long>(type: "bigint", nullable: true),
                    output_tokens = table.Column<long>(type: "bigint", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_transfers", x => x.id);
                    table.CheckConstraint("ck_transfers_amount", "amount > 0 OR (kind = 'capture' AND amount = 0)");
                    table.CheckConstraint("ck_transfers_sides", "debit_account_id <> credit_account_id");
                });

            migrationBuilder.InsertData(
                table: "accounts",
                columns: new[] { "id", "balance", "code", "created_at", "held", "kind", "organization_id" },
                values: new object[,]
                {
                    { new Guid("00000000-0000-0000-0000-000000000001"), 0L, "issuance", new DateTimeOffset(new DateTime(2026, 11, 23, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), 0L, "system", null },
                    { new Guid("00000000-0000-0000-0000-000000000002"), 0L, "promotions", new DateTimeOffset(new DateTime(2026, 11, 23, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), 0L, "system", null },
                    { new Guid("00000000-0000-0000-0000-000000000003"), 0L, "revenue", new DateTimeOffset(new DateTime(2026, 11, 23, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), 0L, "system", null }
                });

            migrationBuilder.CreateIndex(
                name: "IX_accounts_code",
                table: "accounts",
                column: "code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_open_holds_expires_at",
                table: "open_holds",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "IX_transfers_pending_id",
                table: "transfers",
                column: "pending_id",
                unique: true,
                filter: "pending_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_transfers_wallet_id_sequence",
                table: "transfers",
                columns: new[] { "wallet_id", "sequence" },
                descending: new[] { false, true });

            migrationBuilder.SqlScript("20261123190523_Ledger.up.sql");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.SqlScript("20261123190523_Ledger.down.sql");

            migrationBuilder.DropTable(
                name: "accounts");

            migrationBuilder.DropTable(
                name: "open_holds");

            migrationBuilder.DropTable(
                name: "transfers");
        }
    }
}
