using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>A PostgreSQL server: a local one under the data folder, or the one in <c>ConnectionStrings__&lt;name&gt;</c> when the AppHost is given it.</summary>
public sealed class PostgresServerResource(string name, string? externalConnectionString) : Resource(name), IResourceWithConnectionString
{
    public string? ExternalConnectionString { get; } = externalConnectionString;
    public List<PostgresDatabaseResource> Databases { get; } = [];
}

/// <summary>A database on a <see cref="PostgresServerResource"/>, created when the server is ready.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server) : Resource(name), IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;
    public PostgresServerResource Server { get; } = server;
}

public static partial class PostgresBuilderExtensions
{
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this DistributedApplicationBuilder builder, string name) =>
        builder.AddResource(new PostgresServerResource(name, builder.Configuration.GetConnectionString(name)));

    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> builder, string name, string? databaseName = null)
    {
        databaseName ??= name;
        if (!DatabaseNamePattern().IsMatch(databaseName))
        {
            throw new ArgumentException($"Database name '{databaseName}' must be lower-case letters, digits and underscores.", nameof(databaseName));
        }
        var database = new PostgresDatabaseResource(name, databaseName, builder.Resource);
        builder.Resource.Databases.Add(database);
        return builder.ApplicationBuilder.AddResource(database);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex DatabaseNamePattern();
}
