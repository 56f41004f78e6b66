using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Servers;

/// <summary>
/// The data folder of one PostgreSQL cluster: created by initdb once and reused afterwards. The superuser's password
/// is the AppHost's secret parameter; an existing cluster is given it again before each start, so the parameter is
/// the one truth even when it was changed.
/// </summary>
internal static class PostgresCluster
{
    public static async Task PrepareAsync(string directory, string password, PostgresAccount account, ILogger logger, CancellationToken ct)
    {
        var parent = Path.GetDirectoryName(directory) ?? throw new ArgumentException("The data folder cannot be the root folder.", nameof(directory));
        Directory.CreateDirectory(parent);
        await EnsureReachableAsync(parent, account, ct);

        if (File.Exists(Path.Combine(directory, "PG_VERSION")))
        {
            if (!await account.CanAsync("-O", directory, ct))
            {
                await account.OwnRecursivelyAsync(directory, ct);
            }
            await StopLeftoverAsync(directory, logger, ct);
            await SetPasswordAsync(directory, password, account, ct);
            return;
        }
        await InitializeAsync(directory, password, account, logger, ct);
    }

    // Single-user mode reads the statement from stdin: the password is never on a command line.
    private static async Task SetPasswordAsync(string directory, string password, PostgresAccount account, CancellationToken ct)
    {
        var (code, output) = await account.RunAsync(ServerBinaries.PostgresBin("postgres"), ["--single", "-D", directory, "-c", "listen_addresses=", "-c", "unix_socket_directories=", "postgres"],
            TimeSpan.FromMinutes(2), ct, standardInput: $"ALTER USER postgres PASSWORD '{password.Replace("'", "''")}';\n");
        if (code != 0)
        {
            throw new ServerStartException($"Setting the PostgreSQL password in {directory} failed with code {code}:\n  {output.Replace("\n", "\n  ")}");
        }
    }

    // initdb works in a sibling folder that is renamed when complete, so a killed initdb never leaves a half cluster behind.
    private static async Task InitializeAsync(string directory, string password, PostgresAccount account, ILogger logger, CancellationToken ct)
    {
        var staging = directory + ".initdb";
        var passwordFile = directory + ".initdb-password";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new ServerStartException($"{directory} is not empty but holds no PostgreSQL cluster; empty it or choose another data folder.");
        }
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        account.Own(staging);
        WritePrivately(passwordFile, password);
        account.Own(passwordFile);
        try
        {
            logger.LogInformation("Creating a PostgreSQL cluster in {Directory}", directory);
            var (code, output) = await account.RunAsync(ServerBinaries.PostgresBin("initdb"),
                ["-D", staging, "-U", "postgres", "-A", "scram-sha-256", $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                TimeSpan.FromMinutes(2), ct);
            if (code != 0)
            {
                throw new ServerStartException($"initdb failed with code {code}:\n  {output.Replace("\n", "\n  ")}");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory);
        }
        Directory.Move(staging, directory);
    }

    private static async Task EnsureReachableAsync(string parent, PostgresAccount account, CancellationToken ct)
    {
        if (!await account.CanAsync("-x", parent, ct))
        {
            var blocked = parent;
            for (var dir = parent; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (!await account.CanAsync("-x", dir, ct))
                {
                    blocked = dir;
                }
            }
            throw new ServerStartException(
                $"PostgreSQL runs as the 'postgres' user, who cannot enter {blocked}: put the data in a folder it can reach, e.g. GATEWAY_DATA=/var/tmp/gateway (or --data /var/tmp/gateway).");
        }
    }

    // An AppHost that was SIGKILLed leaves its postmaster running until the orchestrator notices (≈12 s); one that
    // died with its orchestrator leaves it for good. Either holds the data folder: stop it (fast shutdown), then start.
    private static async Task StopLeftoverAsync(string directory, ILogger logger, CancellationToken ct)
    {
        var lockFile = Path.Combine(directory, "postmaster.pid");
        if (!File.Exists(lockFile) || !int.TryParse(File.ReadLines(lockFile).FirstOrDefault(), out var pid))
        {
            return;
        }
        if (CommandLine(pid) is { } running && running.Contains(directory, StringComparison.Ordinal) && running.Contains("postgres", StringComparison.Ordinal))
        {
            logger.LogWarning("A PostgreSQL (pid {Pid}) left running on {Directory} by an earlier run is being stopped", pid, directory);
            await Command.RunAsync("/bin/kill", ["-INT", pid.ToString()], TimeSpan.FromSeconds(5), ct);
            for (var waited = 0; waited < 100 && CommandLine(pid) is not null; waited++)
            {
                await Task.Delay(100, ct);
            }
            if (CommandLine(pid) is not null)
            {
                await Command.RunAsync("/bin/kill", ["-KILL", pid.ToString()], TimeSpan.FromSeconds(5), ct);
                await Task.Delay(500, ct);
            }
        }
        if (File.Exists(lockFile))
        {
            logger.LogInformation("Removing the stale {LockFile} (pid {Pid} is gone)", lockFile, pid);
            File.Delete(lockFile);
        }
    }

    private static string? CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WritePrivately(string path, string content)
    {
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, content + "\n");
    }
}
