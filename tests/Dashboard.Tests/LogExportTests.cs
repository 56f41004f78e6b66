using System.Diagnostics;
using Gateway.Hosting.Dashboard.Telemetry;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;

namespace Gateway.Dashboard.Tests;

public sealed class LogExportTests
{
    [Fact]
    public async Task Logs_arrive_with_level_and_trace_id_and_filter_by_them()
    {
        await using var server = await TelemetryServer.StartAsync();
        string traceId;
        using (var factory = Logging(server, "billing"))
        {
            var logger = factory.CreateLogger("Gateway.Billing.Ledger");
            using (var request = new Activity("POST /api/reservations").Start())
            {
                traceId = request.TraceId.ToHexString();
                logger.LogInformation("Reserved {Credits} credits", 5);
                logger.LogWarning("Low balance for {User}", "u-1");
            }
            logger.LogError("Ledger sweep failed");
            logger.LogDebug("Not exported: below the default minimum level");
        }

        var all = await server.GetAsync<List<LogView>>("api/telemetry/logs?service=billing");
        Assert.Equal(["Ledger sweep failed", "Low balance for u-1", "Reserved 5 credits"], all.Select(l => l.Message));
        var reserved = all[2];
        Assert.Equal(("Information", "Gateway.Billing.Ledger", "billing", traceId), (reserved.Level, reserved.Category, reserved.Service, reserved.TraceId));
        Assert.NotNull(reserved.SpanId);
        Assert.Equal("5", reserved.Attributes["Credits"]);
        Assert.Null(all[0].TraceId);

        Assert.Equal(["Error", "Warning"], (await server.GetAsync<List<LogView>>("api/telemetry/logs?level=warning")).Select(l => l.Level));
        Assert.Equal(2, (await server.GetAsync<List<LogView>>($"api/telemetry/logs?traceId={traceId}")).Count);
        Assert.Equal("Low balance for u-1", Assert.Single(await server.GetAsync<List<LogView>>("api/telemetry/logs?q=LOW BAL")).Message);
        Assert.Equal("Ledger sweep failed", Assert.Single(await server.GetAsync<List<LogView>>("api/telemetry/logs?limit=1")).Message);
        Assert.Empty(await server.GetAsync<List<LogView>>("api/telemetry/logs?service=chat"));
    }

    [Fact]
    public async Task An_unknown_level_is_a_400_problem()
    {
        await using var server = await TelemetryServer.StartAsync();

        using var response = await server.Client.GetAsync("api/telemetry/logs?level=loud", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    // Disposing the factory flushes the exporter.
    private static ILoggerFactory Logging(TelemetryServer server, string service) =>
        LoggerFactory.Create(builder => builder.AddOpenTelemetry(logging =>
        {
            logging.SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service));
            logging.IncludeFormattedMessage = true;
            logging.AddOtlpExporter(options =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = server.Endpoint("logs");
            });
        }));
}
