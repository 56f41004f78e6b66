namespace Gateway.Hosting.Servers;

/// <summary>The Debian packages' binaries, with one clear error when a package is missing.</summary>
internal static class ServerBinaries
{
    public const string InstallCommand = "apt-get install -y postgresql redis-server rabbitmq-server";

    public static string PostgresBin(string name)
    {
        // Debian installs /usr/lib/postgresql/<major>/bin; take the newest major present.
        var root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Where(d => int.TryParse(Path.GetFileName(d), out _))
                .OrderByDescending(d => int.Parse(Path.GetFileName(d)))
                .Select(d => Path.Combine(d, "bin", name))
                .FirstOrDefault(File.Exists)
            : null;
        return bin ?? throw Missing("PostgreSQL", $"{root}/<version>/bin/{name}");
    }

    public static string Require(string path, string server) => File.Exists(path) ? path : throw Missing(server, path);

    private static ServerNotInstalledException Missing(string server, string path) =>
        new($"{server} is not installed ({path} not found): run `{InstallCommand}`.");
}

/// <summary>A server's binary is missing; the message names the install command.</summary>
public sealed class ServerNotInstalledException(string message) : Exception(message);

/// <summary>A server could not start; the message says why in one sentence, the last lines of its output follow.</summary>
public sealed class ServerStartException(string message) : Exception(message);
