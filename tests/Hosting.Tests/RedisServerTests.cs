using System.Net.Sockets;
using System.Text;
using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Tests;

public class RedisServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_keeps_its_data_across_a_restart_and_leaves_no_process()
    {
        using var folder = new TempFolder();
        var options = new RedisServerOptions(folder.Sub("redis"), Databases: 4);

        var first = await RedisServer.StartAsync(options, new TestLogger(), Ct);
        Assert.Equal($"127.0.0.1:{first.Port}", first.ConnectionString);
        Assert.Equal("+PONG", await CommandAsync(first.Port, "PING"));
        Assert.Equal("+OK", await CommandAsync(first.Port, "SET kept survives"));
        Assert.StartsWith("-ERR", await CommandAsync(first.Port, "SELECT 4"));
        var firstProcesses = Processes.Of(first.Process);
        await first.DisposeAsync();
        Processes.AssertAllGone(firstProcesses);

        var second = await RedisServer.StartAsync(options, new TestLogger(), Ct);
        Assert.Equal("$8\r\nsurvives", await CommandAsync(second.Port, "GET kept"));
        var secondProcesses = Processes.Of(second.Process);
        await second.DisposeAsync();
        Processes.AssertAllGone(secondProcesses);
    }

    // Redis's inline protocol: one line in, the reply's first two lines out.
    private static async Task<string> CommandAsync(int port, string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), Ct);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, Ct);
        var reply = Encoding.ASCII.GetString(buffer, 0, read).TrimEnd('\r', '\n');
        return reply.StartsWith('-') ? reply : string.Join("\r\n", reply.Split("\r\n").Take(2));
    }
}
