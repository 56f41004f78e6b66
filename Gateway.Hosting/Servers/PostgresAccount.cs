using System.Runtime.InteropServices;

namespace Gateway.Hosting.Servers;

/// <summary>
/// PostgreSQL refuses to run as root. When we are root, its commands run as the `postgres` user through
/// `setpriv`, which replaces itself with the target so the pid we hold is the postmaster's.
/// </summary>
internal sealed class PostgresAccount
{
    private const string SetPriv = "/usr/bin/setpriv";
    private const string User = "postgres";

    private PostgresAccount(uint uid, uint gid, bool switchUser)
    {
        Uid = uid;
        Gid = gid;
        SwitchUser = switchUser;
    }

    public uint Uid { get; }
    public uint Gid { get; }
    public bool SwitchUser { get; }

    public static PostgresAccount Current()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return new PostgresAccount(0, 0, switchUser: false);
        }
        var entry = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 3 && f[0] == User)
            ?? throw new ServerNotInstalledException($"There is no '{User}' user, so PostgreSQL cannot run: run `{ServerBinaries.InstallCommand}`.");
        ServerBinaries.Require(SetPriv, "setpriv (util-linux)");
        return new PostgresAccount(uint.Parse(entry[2]), uint.Parse(entry[3]), switchUser: true);
    }

    /// <summary>The command line that runs <paramref name="binary"/> as the postgres user (or as ourselves when we are not root); run it from "/".</summary>
    public (string File, string[] Arguments) Command(string binary, IEnumerable<string> arguments) =>
        SwitchUser
            ? (SetPriv, [$"--reuid={User}", $"--regid={User}", "--init-groups", "--", binary, .. arguments])
            : (binary, [.. arguments]);

    public Task<(int Code, string Output)> RunAsync(string binary, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct, string? standardInput = null)
    {
        var (file, args) = Command(binary, arguments);
        return Servers.Command.RunAsync(file, args, timeout, ct, standardInput: standardInput);
    }

    /// <summary>Whether the postgres user passes `test <paramref name="flags"/> <paramref name="path"/>` (e.g. "-x" to enter a folder).</summary>
    public async Task<bool> CanAsync(string flags, string path, CancellationToken ct)
    {
        if (!SwitchUser)
        {
            return true;
        }
        var (code, _) = await RunAsync("/usr/bin/test", [flags, path], TimeSpan.FromSeconds(10), ct);
        return code == 0;
    }

    /// <summary>Hands a file or folder (not recursive) to the postgres user.</summary>
    public void Own(string path)
    {
        if (SwitchUser && chown(path, Uid, Gid) != 0)
        {
            throw new IOException($"chown {User} {path} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    public async Task OwnRecursivelyAsync(string path, CancellationToken ct)
    {
        if (SwitchUser)
        {
            var (code, output) = await Servers.Command.RunAsync("/bin/chown", ["-R", $"{User}:{User}", path], TimeSpan.FromMinutes(2), ct);
            if (code != 0)
            {
                throw new IOException($"chown -R {User} {path} failed: {output}");
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);
}
