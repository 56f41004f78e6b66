using System.Net;
using Gateway.Hosting.Servers;
using Gateway.MockLlm;

namespace Chat.Tests;

// RabbitMQ stops while a chat is streaming and starts again later: the charge is delayed, never lost,
// and applied once. This class runs its own broker, so stopping it disturbs no other test class.
public sealed class BrokerOutageTests(GatewayInfrastructure infrastructure)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_charge_recorded_while_RabbitMQ_is_down_arrives_once_after_it_restarts()
    {
        await using var broker = await LocalServers.StartAsync(builder => builder.AddRabbitMQServer("rabbitmq"), Cancel);
        await using var model = await MockLlmServer.StartAsync();
        GatewaySystem? system = null;
        try
        {
            system = await ChatSystem.StartSystemAsync(infrastructure, model, new() { ["ConnectionStrings:rabbitmq"] = await broker.ConnectionStringAsync("rabbitmq") });
            var user = await ChatSystem.UserAsync(system);

            using var response = await user.Client.SendAsync(
                ChatSystem.ChatRequest(new { message = "Slowly now [mock:tokens=20] [mock:token-ms=100]", maxTokens = 50 }),
                HttpCompletionOption.ResponseHeadersRead, Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ServerSentEvent? done = null;
            var stopped = false;
            await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
            {
                if (e.Name == "token" && !stopped)
                {
                    await broker.StopAsync("rabbitmq", Cancel); // the reservation is held; the broker goes away mid-answer
                    stopped = true;
                }
                if (e.Name == "done")
                {
                    done = e;
                }
            }
            Assert.True(stopped);
            Assert.NotNull(done);
            var credits = done.Data.GetProperty("usage").GetProperty("credits").GetInt64();

            await Task.Delay(TimeSpan.FromSeconds(2), Cancel);
            var during = await ChatSystem.BalanceAsync(user);
            Assert.Equal(ChatSystem.SignUpGrant, during.Balance); // not charged yet: Billing cannot hear about it
            Assert.True(during.Held > 0);

            await broker.StartAsync("rabbitmq", Cancel);
            var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0, TimeSpan.FromSeconds(120));

            Assert.Equal(new Wallet(ChatSystem.SignUpGrant - credits, 0, ChatSystem.SignUpGrant - credits), after);
            await Task.Delay(TimeSpan.FromSeconds(1), Cancel);
            var charge = Assert.Single(await ChatSystem.UsageEntriesAsync(user));
            Assert.Equal(-credits, charge.GetProperty("amount").GetInt64());
        }
        finally
        {
            if (system is not null)
            {
                await system.DisposeAsync();
            }
        }
    }
}
