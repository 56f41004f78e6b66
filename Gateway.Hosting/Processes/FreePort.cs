using System.Net;
using System.Net.Sockets;

namespace Gateway.Hosting.Processes;

/// <summary>
/// Picks TCP ports that are free on 127.0.0.1. They are taken below the kernel's ephemeral range, so an outgoing
/// connection can never grab a server's port while that server restarts, and never twice from one process.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        var (low, high) = Range();
        lock (Handed)
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var port = Random.Shared.Next(low, high);
                if (!Handed.Contains(port) && IsFree(port))
                {
                    Handed.Add(port);
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"No free TCP port found between {low} and {high} on 127.0.0.1.");
    }

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

    // Ports from 20000 up to the start of the ephemeral range (32768 by default).
    private static (int Low, int High) Range()
    {
        var high = 32768;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            high = int.Parse(fields[0]);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
        }
        return high > 21000 ? (20000, high) : (20000, 30000);
    }
}
