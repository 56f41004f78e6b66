using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Chat.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class Generations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "generations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Prompt = table.Column<string>(type: "text", nullable: false),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Output = table.Column<string>(type: "text", nullable: true),
                    Credits = table.Column<long>(type: "bigint", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_generations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_generations_UserId_Kind_CreatedAt",
                table: "generations",
                columns: new[] { "UserId", "Kind", "CreatedAt" });

            // Icons become completed generations of the kind "icon" (what each cost was not recorded with them).
            migrationBuilder.Sql("""
                INSERT INTO generations ("Id", "UserId", "Kind", "Prompt", "Model", "Status", "Output", "Credits", "Error", "CreatedAt", "CompletedAt")
                SELECT "Id", "UserId", 'icon', "Prompt", "Model", 'completed', "Svg", NULL, NULL, "CreatedAt", "CreatedAt" FROM icons;
                """);

            migrationBuilder.DropTable(
                name: "icons");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "icons",
                columns: table => new
                {
                    // In the order the Initial migration made them, so that going down gives back the same table.
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<Guid>(type: "uuid", nullable: false),
                    Prompt = table.Column<string>(type: "text", nullable: false),
                    Svg = table.Column<string>(type: "text", nullable: false),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_icons", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_icons_UserId_CreatedAt",
                table: "icons",
                columns: new[] { "UserId", "CreatedAt" });

            migrationBuilder.Sql("""
                INSERT INTO icons ("Id", "UserId", "Prompt", "Svg", "Model", "CreatedAt")
                SELECT "Id", "UserId", "Prompt", "Output", "Model", "CreatedAt" FROM generations WHERE "Kind" = 'icon' AND "Status" = 'completed';
                """);

            migrationBuilder.DropTable(
                name: "generations");
        }
    }
}
