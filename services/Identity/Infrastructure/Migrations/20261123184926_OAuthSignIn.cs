using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Identity.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class OAuthSignIn : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth_authorizations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Provider = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    StateHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    CodeVerifier = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    LinkUserId = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth_authorizations", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth_authorizations_ExpiresAt",
                table: "oauth_authorizations",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_oauth_authorizations_StateHash",
                table: "oauth_authorizations",
                column: "StateHash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth_authorizations");
        }
    }
}
