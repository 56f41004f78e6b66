using System.Diagnostics;
using System.Text.Json;
using Gateway.Hosting.Dashboard.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Dashboard.Tests;

// The real .NET OTLP exporter, over http/protobuf, as every service sends.
public sealed class TraceExportTests
{
    [Fact]
    public async Task Spans_of_two_services_land_as_one_trace_with_parent_links()
    {
        await using var server = await TelemetryServer.StartAsync();
        using var edgeSource = new ActivitySource("Test.Edge");
        using var chatSource = new ActivitySource("Test.Chat");
        using var edge = Tracing(server, "edge", edgeSource.Name);
        using var chat = Tracing(server, "chat", chatSource.Name);

        string traceId, rootId, childId;
        using (var root = edgeSource.StartActivity("POST /v1/chat/completions", ActivityKind.Server)!)
        {
            root.SetTag("http.route", "/v1/chat/completions");
            using var child = chatSource.StartActivity("chat.completions consume", ActivityKind.Consumer)!;
            child.AddEvent(new ActivityEvent("upstream.retry"));
            child.SetStatus(ActivityStatusCode.Error, "upstream failed");
            (traceId, rootId, childId) = (root.TraceId.ToHexString(), root.SpanId.ToHexString(), child.SpanId.ToHexString());
        }
        edge.ForceFlush();
        chat.ForceFlush();

        var summary = Assert.Single(await server.GetAsync<List<TraceSummary>>("api/telemetry/traces"));
        Assert.Equal(traceId, summary.TraceId);
        Assert.Equal("POST /v1/chat/completions", summary.Name);
        Assert.Equal("edge", summary.Service);
        Assert.Equal(["edge", "chat"], summary.Services);
        Assert.Equal(2, summary.SpanCount);
        Assert.True(summary.HasError);
        Assert.Single(await server.GetAsync<List<TraceSummary>>("api/telemetry/traces?service=chat"));
        Assert.Empty(await server.GetAsync<List<TraceSummary>>("api/telemetry/traces?service=billing"));

        var trace = await server.GetAsync<TraceDetail>($"api/telemetry/traces/{traceId}");
        Assert.Collection(trace.Spans,
            root =>
            {
                Assert.Equal((rootId, null, "edge", "server", "unset"), (root.SpanId, root.ParentSpanId, root.Service, root.Kind, root.Status));
                Assert.Equal("/v1/chat/completions", root.Attributes["http.route"]);
            },
            child =>
            {
                Assert.Equal((childId, rootId, "chat", "consumer", "error"), (child.SpanId, child.ParentSpanId, child.Service, child.Kind, child.Status));
                Assert.Equal("upstream failed", child.StatusMessage);
                Assert.Equal("upstream.retry", Assert.Single(child.Events).Name);
            });
        Assert.Equal(["chat", "edge"], await server.GetAsync<List<string>>("api/telemetry/services"));
    }

    [Fact]
    public async Task Trace_json_is_camel_case_and_an_unknown_trace_is_a_404_problem()
    {
        await using var server = await TelemetryServer.StartAsync();
        using var source = new ActivitySource("Test.Json");
        using var tracing = Tracing(server, "keys", source.Name);
        string traceId;
        using (var span = source.StartActivity("GET /api/keys")!)
        {
            traceId = span.TraceId.ToHexString();
        }
        tracing.ForceFlush();

        using var json = JsonDocument.Parse(await server.Client.GetStringAsync($"api/telemetry/traces/{traceId}", TestContext.Current.CancellationToken));
        var span0 = json.RootElement.GetProperty("spans")[0];
        Assert.Equal(JsonValueKind.Null, span0.GetProperty("parentSpanId").ValueKind);
        Assert.Equal(JsonValueKind.Number, span0.GetProperty("startTime").ValueKind);
        Assert.Equal(JsonValueKind.Number, span0.GetProperty("durationMs").ValueKind);

        using var missing = await server.Client.GetAsync($"api/telemetry/traces/{new string('0', 31)}1", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    private static TracerProvider Tracing(TelemetryServer server, string service, string source) =>
        Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service))
            .AddSource(source)
            .AddOtlpExporter(options =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = server.Endpoint("traces");
            })
            .Build();
}
