using System.Diagnostics;
using System.Net.Sockets;
using Gateway.Hosting.Processes;

namespace Gateway.Hosting.Servers;

/// <summary>Polls a probe until a freshly started server answers, failing fast when its process dies first.</summary>
internal static class Readiness
{
    public static async Task WaitAsync(string server, ChildProcess process, Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw Failed($"{server} exited with code {process.Exited.Result} before it was ready", process);
            }
            if (await probe(ct))
            {
                return;
            }
            if (clock.Elapsed > timeout)
            {
                throw Failed($"{server} was not ready after {timeout.TotalSeconds:0} s", process);
            }
            await Task.WhenAny(process.Exited, Task.Delay(100, ct));
        }
    }

    public static ServerStartException Failed(string sentence, ChildProcess process)
    {
        var lines = process.RecentOutput.TakeLast(15).ToList();
        return new ServerStartException(lines.Count == 0 ? sentence + "." : $"{sentence}; its last output:\n  {string.Join("\n  ", lines)}");
    }

    public static async Task<bool> TcpAcceptsAsync(int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync("127.0.0.1", port, limit.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }
}
