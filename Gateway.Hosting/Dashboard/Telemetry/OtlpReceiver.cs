using System.IO.Compression;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Logs;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Metrics;
using Gateway.Hosting.Dashboard.Telemetry.Otlp.Collector.Trace;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Gateway.Hosting.Dashboard.Telemetry;

/// <summary>
/// OTLP/HTTP with protobuf bodies (optionally gzip): what the services' exporters send when
/// OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf points them here. No gRPC, no OTLP/JSON.
/// </summary>
public static class OtlpReceiver
{
    private const string Protobuf = "application/x-protobuf";
    // Far above any exporter's batch; a bound on what a gzip body may inflate to.
    private const int MaxBodyBytes = 32 * 1024 * 1024;

    /// <summary>Maps POST /v1/traces, /v1/logs and /v1/metrics; restrict the returned group to the OTLP port with RequireHost.</summary>
    public static RouteGroupBuilder MapOtlpReceiver(this IEndpointRouteBuilder endpoints)
    {
        var otlp = endpoints.MapGroup("/v1");

        otlp.MapPost("/traces", (HttpRequest request, TelemetryStore store, CancellationToken cancellationToken) =>
            Receive(request, ExportTraceServiceRequest.Parser, store.Add, new ExportTraceServiceResponse(), cancellationToken));
        otlp.MapPost("/logs", (HttpRequest request, TelemetryStore store, CancellationToken cancellationToken) =>
            Receive(request, ExportLogsServiceRequest.Parser, store.Add, new ExportLogsServiceResponse(), cancellationToken));
        otlp.MapPost("/metrics", (HttpRequest request, TelemetryStore store, CancellationToken cancellationToken) =>
            Receive(request, ExportMetricsServiceRequest.Parser, store.Add, new ExportMetricsServiceResponse(), cancellationToken));
        return otlp;
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Receive<T>(
        HttpRequest request, MessageParser<T> parser, Action<T> store, IMessage response, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals(Protobuf, StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, $"Send OTLP as {Protobuf} (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf).");
        }
        var encoding = request.Headers.ContentEncoding.ToString();
        if (encoding is not ("" or "identity" or "gzip"))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Content-Encoding must be gzip or none.");
        }

        T message;
        try
        {
            await using var gzip = encoding == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : null;
            var body = await ReadAsync(gzip ?? request.Body, cancellationToken);
            if (body is null)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, $"The body is larger than {MaxBodyBytes / 1024 / 1024} MB.");
            }
            message = parser.ParseFrom(body);
        }
        catch (Exception exception) when (exception is InvalidProtocolBufferException or InvalidDataException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body is not an OTLP export request.");
        }
        store(message);
        return TypedResults.Bytes(response.ToByteArray(), Protobuf);
    }

    // The whole body, or null when it exceeds the limit.
    private static async Task<byte[]?> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);
}
