using System.Net.Http.Headers;
using System.Net.Sockets;
using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Tests;

public class RabbitMqServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Speaks_AMQP_creates_a_vhost_keeps_it_across_a_restart_and_leaves_no_process()
    {
        using var folder = new TempFolder();
        var options = new RabbitMqServerOptions(folder.Sub("rabbitmq"));

        var first = await RabbitMqServer.StartAsync(options, new TestLogger(), Ct);
        Assert.Equal(1, await AmqpHandshakeFrameTypeAsync(first.Port));
        Assert.Equal($"amqp://guest:guest@127.0.0.1:{first.Port}/", first.AmqpUri().ToString());
        Assert.Equal($"amqp://guest:guest@127.0.0.1:{first.Port}/tests%2Fa", first.AmqpUri("tests/a").AbsoluteUri);
        await first.CreateVirtualHostAsync("tests/a", Ct);
        Assert.True(await VirtualHostExistsAsync(first, "tests/a"));
        Assert.False(await VirtualHostExistsAsync(first, "never-created"));
        var firstProcesses = Processes.Of([.. first.Processes]);
        Assert.Contains(firstProcesses, p => p.Command == "beam.smp");
        Assert.Contains(firstProcesses, p => p.Command == "epmd");
        await first.DisposeAsync();
        Processes.AssertAllGone(firstProcesses);

        var second = await RabbitMqServer.StartAsync(options with { Port = 0 }, new TestLogger(), Ct);
        Assert.True(await VirtualHostExistsAsync(second, "tests/a"));
        var secondProcesses = Processes.Of([.. second.Processes]);
        await second.DisposeAsync();
        Processes.AssertAllGone(secondProcesses);
    }

    // A broker answers the AMQP 0-9-1 protocol header with a Connection.Start method frame (frame type 1).
    private static async Task<int> AmqpHandshakeFrameTypeAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, Ct);
        var stream = client.GetStream();
        await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), Ct);
        var frame = new byte[7];
        await stream.ReadExactlyAsync(frame, Ct);
        return frame[0];
    }

    private static async Task<bool> VirtualHostExistsAsync(RabbitMqServer server, string vhost)
    {
        using var http = new HttpClient { BaseAddress = server.ManagementUri };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        using var response = await http.GetAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", Ct);
        return response.IsSuccessStatusCode;
    }
}
