using System.Net;
using System.Net.Sockets;

namespace Gateway.Hosting.Servers;

/// <summary>
/// Picks TCP ports that are free on 127.0.0.1. They are taken below the kernel's ephemeral range, so an outgoing
/// connection can never grab a server's port while that server restarts, and never twice on this machine while the
/// process that picked one lives: each port handed out is claimed with a lock file that other processes see (an
/// advisory lock, released by the kernel when the process ends). Without the claim, two test runs side by side
/// could pick the same port in the seconds before its server binds it (initdb takes that long), and the second
/// server then fails to start (epmd even exits 0 when its port is taken).
/// </summary>
public static class FreePort
{
    private static readonly Dictionary<int, FileStream?> Claimed = [];
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), $"gateway-ports-{Environment.UserName}");

    /// <summary>
    /// A free port, claimed; or the first of <paramref name="count"/> consecutive ones, each claimed, for a server that
    /// derives ports from its own (the AppHost puts the dashboard's OTLP and resource service ports right after it).
    /// </summary>
    public static int Next(int count = 1)
    {
        var (low, high) = Range();
        lock (Claimed)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var first = Random.Shared.Next(low, high - count + 1);
                var ports = Enumerable.Range(first, count).ToList();
                if (ports.Any(Claimed.ContainsKey))
                {
                    continue;
                }
                var claims = new List<FileStream?>();
                foreach (var port in ports)
                {
                    if (!TryClaim(port, out var claim))
                    {
                        break;
                    }
                    claims.Add(claim);
                }
                if (claims.Count == count && ports.All(port => IsFree(port)))
                {
                    for (var i = 0; i < count; i++)
                    {
                        Claimed.Add(ports[i], claims[i]);
                    }
                    return first;
                }
                claims.ForEach(claim => claim?.Dispose());
            }
        }
        throw new InvalidOperationException($"No {count} free consecutive TCP ports found between {low} and {high} on 127.0.0.1.");
    }

    /// <summary>The lock file a process holds for as long as a port it picked may be in use; a path for tests.</summary>
    public static string ClaimPath(int port) => Path.Combine(ClaimDirectory, $"{port}.lock");

    public static bool IsFree(int port, IPAddress? address = null)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, port));
            socket.Listen(1);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // FileShare.None is an exclusive flock on Unix: another process (or this one) opening the file fails until the
    // holder closes it or dies. Where the folder cannot be made, ports go unclaimed, as before.
    private static bool TryClaim(int port, out FileStream? claim)
    {
        claim = null;
        if (!ClaimDirectoryExists.Value)
        {
            return true;
        }
        try
        {
            claim = new FileStream(ClaimPath(port), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static readonly Lazy<bool> ClaimDirectoryExists = new(() =>
    {
        try
        {
            Directory.CreateDirectory(ClaimDirectory);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    });

    // Ports from 20000 up to the start of the ephemeral range (32768 by default).
    private static (int Low, int High) Range()
    {
        var high = 32768;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            high = int.Parse(fields[0]);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
        }
        return high > 21000 ? (20000, high) : (20000, 30000);
    }
}
