using Microsoft.Extensions.Configuration;

namespace Gateway.ServiceDefaults;

// A missing connection string fails at start with its name, not later at the first query.
public static class ConnectionStrings
{
    public static string RequireConnectionString(this IConfiguration configuration, string name) =>
        Require(configuration.GetConnectionString(name), name);

    // What an Aspire client integration resolved (ConnectionStrings:<name>, or its own settings section), or the error.
    public static string Require(string? connectionString, string name) =>
        connectionString is { Length: > 0 }
            ? connectionString
            : throw new InvalidOperationException($"The connection string 'ConnectionStrings:{name}' (environment ConnectionStrings__{name}) is not set.");
}
