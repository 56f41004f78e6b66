using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Hosting.Dashboard.Telemetry;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Trace;
using Google.Protobuf;

namespace Gateway.Dashboard.Tests;

public sealed class ReceiverTests
{
    [Fact]
    public async Task An_unreadable_body_is_a_400_problem()
    {
        await using var server = await TelemetryServer.StartAsync();

        using var response = await Post(server, "traces", [0x0a, 0xff, 0xff, 0xff], "application/x-protobuf");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Another_content_type_is_415()
    {
        await using var server = await TelemetryServer.StartAsync();

        using var response = await Post(server, "logs", "{}"u8.ToArray(), "application/json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_gzip_body_is_accepted_and_answered_with_an_empty_protobuf_response()
    {
        await using var server = await TelemetryServer.StartAsync();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            OtlpRequests.Spans("edge", [7]).WriteTo(gzip);
        }

        using var response = await Post(server, "traces", compressed.ToArray(), "application/x-protobuf", gzip: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new ExportTraceServiceResponse(), ExportTraceServiceResponse.Parser.ParseFrom(body));
        Assert.Equal(OtlpRequests.Hex(7, 16), Assert.Single(await server.GetAsync<List<TraceSummary>>("api/telemetry/traces")).TraceId);
    }

    private static async Task<HttpResponseMessage> Post(TelemetryServer server, string signal, byte[] body, string contentType, bool gzip = false)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }
        return await server.Client.PostAsync(server.Endpoint(signal), content, TestContext.Current.CancellationToken);
    }
}
