using System.Net;
using System.Text.Json;
using Gateway.Testing;

namespace ServiceDefaults.Tests;

public sealed class ReadinessTests(GatewayInfrastructure infrastructure)
{
    [Fact]
    public async Task Every_service_is_ready_against_the_real_servers()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, settings: ServiceDefaultsSettings.With());

        foreach (var service in GatewaySystem.AllServices)
        {
            using var client = system[service].CreateHttpClient();
            var (status, report) = await ReadyAsync(client);

            Assert.True(status == HttpStatusCode.OK, $"{service}: {report}");
            Assert.Equal("healthy", report.GetProperty("status").GetString());
            var checks = report.GetProperty("checks");
            Assert.Equal("healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
            Assert.Equal("healthy", checks.GetProperty("rabbitmq").GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task The_edges_downstream_report_turns_red_when_a_service_stops_while_its_readiness_stays_green()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, settings: ServiceDefaultsSettings.With());
        using var edge = system.CreateEdgeClient();

        var (status, report) = await ReadyAsync(edge, "/health/downstream");
        Assert.True(status == HttpStatusCode.OK, report.ToString());
        var checks = report.GetProperty("checks");
        foreach (var name in new[] { "identity", "keys", "billing", "chat", "devices", "redis", "rabbitmq" })
        {
            Assert.Equal("healthy", checks.GetProperty(name).GetProperty("status").GetString());
        }

        await system[GatewayService.Chat].DisposeAsync();

        (status, report) = await ReadinessAsync(edge, "/health/downstream");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("unhealthy", report.GetProperty("checks").GetProperty("chat").GetProperty("status").GetString());
        Assert.Equal("healthy", report.GetProperty("checks").GetProperty("billing").GetProperty("status").GetString());
        // The edge's report is public: why, without the service's address.
        Assert.Equal("chat does not answer (connection refused or lost)", report.GetProperty("checks").GetProperty("chat").GetProperty("error").GetString());

        // Its readiness is its own (Redis, RabbitMQ): an orchestrator keeps routing to it, and the other services answer.
        (status, report) = await ReadinessAsync(edge, "/health/readiness");
        Assert.True(status == HttpStatusCode.OK, report.ToString());
        Assert.Equal(["rabbitmq", "redis"], report.GetProperty("checks").EnumerateObject().Select(check => check.Name).Order());
        using var balance = await edge.GetAsync("/api/tokens/balance", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, balance.StatusCode); // Billing's answer: it wants a caller
    }

    [Fact]
    public async Task A_service_whose_dependency_is_down_answers_503_naming_it()
    {
        // Nothing listens on port 1: Redis is "down" for this system while Postgres and RabbitMQ are up.
        await using var system = await GatewaySystem.StartAsync(
            infrastructure,
            [GatewayService.Devices],
            settings: ServiceDefaultsSettings.With(("ConnectionStrings:redis", "127.0.0.1:1")));
        using var client = system[GatewayService.Devices].CreateHttpClient();

        var (status, report) = await ReadinessAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var checks = report.GetProperty("checks");
        Assert.Equal("unhealthy", checks.GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Redis does not answer.", checks.GetProperty("redis").GetProperty("error").GetString());
        Assert.Equal("healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Liveness_answers_ok()
    {
        await using var system = await GatewaySystem.StartAsync(infrastructure, [GatewayService.Billing]);
        using var client = system.CreateEdgeClient();

        var body = await client.GetStringAsync("/health/liveness", TestContext.Current.CancellationToken);

        Assert.Equal("""{"status":"ok"}""", body);
    }

    // Right after start a bus may still be connecting: wait (bounded) for a green report, return the last.
    private static async Task<(HttpStatusCode, JsonElement)> ReadyAsync(HttpClient client, string path = "/health/readiness")
    {
        var (status, report) = await ReadinessAsync(client, path);
        for (var attempt = 0; attempt < 100 && status != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            (status, report) = await ReadinessAsync(client, path);
        }
        return (status, report);
    }

    private static async Task<(HttpStatusCode, JsonElement)> ReadinessAsync(HttpClient client, string path = "/health/readiness")
    {
        using var response = await client.GetAsync(path, TestContext.Current.CancellationToken);
        var json = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(json).RootElement.Clone());
    }
}
