using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Operations;
using Microsoft.EntityFrameworkCore.Migrations.Operations.Builders;

namespace Gateway.Billing.Infrastructure.Migrations;

// A migration's SQL is frozen with it in Sql/ (embedded in the assembly), never taken from code that a later change
// edits: a database built from empty must end up as one upgraded step by step, and a Down must give back what the
// migration before it built.
internal static class MigrationScripts
{
    public static OperationBuilder<SqlOperation> SqlScript(this MigrationBuilder migrationBuilder, string fileName) =>
        migrationBuilder.Sql(Read(fileName));

    public static string Read(string fileName)
    {
        using var script = typeof(MigrationScripts).Assembly.GetManifestResourceStream($"Migrations/{fileName}")
            ?? throw new InvalidOperationException($"No migration script {fileName} is embedded (Infrastructure/Migrations/Sql).");
        using var reader = new StreamReader(script);
        // A checkout with CRLF line endings must not change the function bodies Postgres stores.
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }
}
