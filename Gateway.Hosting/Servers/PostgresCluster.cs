using System.Security.Cryptography;
using Gateway.Hosting.Processes;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Servers;

/// <summary>
/// The data folder of one PostgreSQL cluster: created by initdb once and reused afterwards, with the superuser's
/// password kept beside it (mode 600) so that every restart finds it again.
/// </summary>
internal sealed class PostgresCluster
{
    private PostgresCluster(string directory, string password)
    {
        Directory = directory;
        Password = password;
    }

    public string Directory { get; }
    public string Password { get; }

    public static async Task<PostgresCluster> PrepareAsync(string dataDirectory, PostgresAccount account, ILogger logger, CancellationToken ct)
    {
        var directory = Path.GetFullPath(dataDirectory);
        var parent = Path.GetDirectoryName(directory) ?? throw new ArgumentException("The data folder cannot be the root folder.", nameof(dataDirectory));
        System.IO.Directory.CreateDirectory(parent);
        await EnsureReachableAsync(parent, account, ct);

        var passwordFile = Path.Combine(parent, Path.GetFileName(directory) + ".password");
        if (File.Exists(Path.Combine(directory, "PG_VERSION")))
        {
            if (!File.Exists(passwordFile))
            {
                throw new ServerStartException($"The PostgreSQL data folder {directory} exists but its password file {passwordFile} is gone; delete the data folder to start afresh.");
            }
            if (!await account.CanAsync("-O", directory, ct))
            {
                await account.OwnRecursivelyAsync(directory, ct);
            }
            await RemoveStaleLockAsync(directory, logger);
            return new PostgresCluster(directory, File.ReadAllText(passwordFile).Trim());
        }

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await InitializeAsync(directory, password, account, logger, ct);
        WritePrivately(passwordFile, password);
        return new PostgresCluster(directory, password);
    }

    // initdb works in a sibling folder that is renamed when complete, so a killed initdb never leaves a half cluster behind.
    private static async Task InitializeAsync(string directory, string password, PostgresAccount account, ILogger logger, CancellationToken ct)
    {
        var staging = directory + ".initdb";
        var passwordFile = directory + ".initdb-password";
        if (System.IO.Directory.Exists(staging))
        {
            System.IO.Directory.Delete(staging, recursive: true);
        }
        if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new ServerStartException($"{directory} is not empty but holds no PostgreSQL cluster; empty it or choose another data folder.");
        }
        System.IO.Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        account.Own(staging);
        WritePrivately(passwordFile, password);
        account.Own(passwordFile);
        try
        {
            logger.LogInformation("Creating a PostgreSQL cluster in {Directory}", directory);
            var initdb = ServerBinaries.PostgresBin("initdb");
            var (code, output) = await ChildProcess.RunAsync(
                account.Command(initdb, ["-D", staging, "-U", "postgres", "-A", "scram-sha-256", $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], "initdb"),
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
        if (System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory);
        }
        System.IO.Directory.Move(staging, directory);
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

    // A SIGKILLed postmaster leaves postmaster.pid behind; Postgres refuses to start while the pid in it belongs to any live process.
    private static async Task RemoveStaleLockAsync(string directory, ILogger logger)
    {
        var lockFile = Path.Combine(directory, "postmaster.pid");
        if (!File.Exists(lockFile) || !int.TryParse(File.ReadLines(lockFile).FirstOrDefault(), out var pid))
        {
            return;
        }
        var owner = ProcessTable.Read(pid);
        if (owner is not null && owner.Command == "postgres" && ProcessTable.CommandLine(pid)?.Contains(directory, StringComparison.Ordinal) == true)
        {
            logger.LogWarning("A PostgreSQL (pid {Pid}) left running on {Directory} by an earlier run is being stopped", pid, directory);
            Signals.Send(pid, Signals.SIGINT);
            for (var waited = 0; waited < 100 && ProcessTable.IsAlive(pid); waited++)
            {
                await Task.Delay(100);
            }
            if (ProcessTable.IsAlive(pid))
            {
                foreach (var entry in ProcessTable.TreeAndGroup(pid, owner.StartTicks))
                {
                    Signals.Send(entry.Pid, Signals.SIGKILL);
                }
                await Task.Delay(500);
            }
        }
        if (File.Exists(lockFile))
        {
            logger.LogInformation("Removing the stale {LockFile} (pid {Pid} is gone)", lockFile, pid);
            File.Delete(lockFile);
        }
    }

    private static void WritePrivately(string path, string content)
    {
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, content + "\n");
    }
}
