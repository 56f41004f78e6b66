using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gateway.Chat.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class SessionToolCalls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ToolCalls",
                table: "messages",
                type: "jsonb",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ToolCalls",
                table: "messages");
        }
    }
}
