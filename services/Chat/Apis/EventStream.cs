using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Gateway.Chat.Apis;

// Server-Sent Events, flushed event by event so each one passes the edge (YARP streams) as it is written.
public sealed class EventStream
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpResponse _response;

    private EventStream(HttpResponse response) => _response = response;

    public bool CallerLeft { get; private set; }

    public static EventStream Start(HttpContext http)
    {
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return new EventStream(http.Response);
    }

    // "event: name" and the data as JSON.
    public Task<bool> SendAsync(string name, object data) =>
        WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, data.GetType(), Json)}\n\n");

    // A bare "data:" line, as OpenAI's stream has it.
    public Task<bool> SendDataAsync(string data) => WriteAsync($"data: {data}\n\n");

    // The last event: written together with the end of the response, so the caller (and the edge) get both at once.
    public Task<bool> EndAsync(string name, object data) =>
        WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data, data.GetType(), Json)}\n\n", end: true);

    // The last bare "data:" lines, in one write with the end of the response.
    public Task<bool> EndWithDataAsync(IEnumerable<string> data) => WriteAsync(string.Concat(data.Select(d => $"data: {d}\n\n")), end: true);

    // Named events whose data is already JSON (OpenAI's Responses stream), in one write.
    public Task<bool> SendEventsAsync(IEnumerable<(string Name, string Json)> events) => WriteAsync(Events(events));

    // The last named events, in one write with the end of the response.
    public Task<bool> EndWithEventsAsync(IEnumerable<(string Name, string Json)> events) => WriteAsync(Events(events), end: true);

    private static string Events(IEnumerable<(string Name, string Json)> events) => string.Concat(events.Select(e => $"event: {e.Name}\ndata: {e.Json}\n\n"));

    private async Task<bool> WriteAsync(string text, bool end = false)
    {
        if (CallerLeft)
        {
            return false;
        }
        try
        {
            await _response.WriteAsync(text, _response.HttpContext.RequestAborted);
            await (end ? _response.CompleteAsync() : _response.Body.FlushAsync(_response.HttpContext.RequestAborted));
            return true;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            CallerLeft = true;
            return false;
        }
    }
}

// A handler's answer that streams: the status is decided before it is returned, the body written after.
// Declared to the API reference as a 200 in text/event-stream, beside the endpoint's JSON answer.
public sealed class EventStreamResult(Func<EventStream, Task> write) : IResult, IEndpointMetadataProvider
{
    public Task ExecuteAsync(HttpContext httpContext) => write(EventStream.Start(httpContext));

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/event-stream"]));
}
