using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.MockLlm;

// POST /v1/chat/completions and GET /v1/models (chat and embedding models), in OpenAI's wire format.
public static class Completions
{
    public static IEndpointRouteBuilder MapCompletions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", ListModels);
        app.MapPost("/v1/chat/completions", Complete);
        app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" }));
        // The probes every Gateway service answers, so a cluster checks MockLlm like the others.
        app.MapGet("/health/liveness", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/health/readiness", () => TypedResults.Ok(new { status = "ok" }));
        return app;
    }

    public static IResult ListModels(HttpContext http, IOptions<MockLlmOptions> options) =>
        Unauthorized(http, options.Value) ?? TypedResults.Json(new
        {
            @object = "list",
            data = options.Value.Models.Concat(options.Value.EmbeddingModels).Select(id => new { id, @object = "model", created = 1_700_000_000, owned_by = "mock-llm" }),
        });

    public static async Task Complete(HttpContext http, IOptions<MockLlmOptions> options, MockLlmStats stats)
    {
        var settings = options.Value;
        if (Unauthorized(http, settings) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }

        var (valid, request) = await ReadAsync(http, stats);
        if (!valid)
        {
            await Error(http, 400, "The body is not valid JSON.", "invalid_request_error", null);
            return;
        }
        var model = request?["model"]?.GetValue<string>();
        if (model is null || !settings.Models.Contains(model))
        {
            await Error(http, 404, $"The model '{model}' does not exist.", "invalid_request_error", "model_not_found");
            return;
        }
        if (request!["messages"] is not JsonArray { Count: > 0 } messages)
        {
            await Error(http, 400, "'messages' must be a non-empty array.", "invalid_request_error", null);
            return;
        }

        var conversation = messages.Select(m => (Role: m?["role"]?.GetValue<string>() ?? "user", Content: ContentOf(m?["content"]))).ToList();
        var lastUser = conversation.LastOrDefault(m => m.Role == "user").Content ?? "";
        var system = string.Join('\n', conversation.Where(m => m.Role is "system" or "developer").Select(m => m.Content));
        var directives = Directives.Read(settings, http.Request.Headers["X-Mock"], lastUser);
        var limit = (int?)(request["max_completion_tokens"] ?? request["max_tokens"])?.GetValue<long>() ?? int.MaxValue;
        var stream = request["stream"]?.GetValue<bool>() == true;
        var includeUsage = request["stream_options"]?["include_usage"]?.GetValue<bool>() == true && !directives.NoUsage;

        try
        {
            await Task.Delay(directives.FirstTokenLatency, http.RequestAborted);
            if (directives.Hang)
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
            if (directives.ErrorStatus is { } status)
            {
                await Error(http, status, $"The mock was asked to fail with {status}.", status >= 500 ? "server_error" : "invalid_request_error", "mock_error");
                return;
            }

            // A scripted tool call ([mock:call name {json}]) not yet answered by a tool message is asked for now, alone;
            // once all are answered, the answer says what the tools returned.
            var script = ToolScript.Read(lastUser, messages);
            var call = script.Next ?? (directives.Tool ? ToolScript.Weather : null);
            var wanted = Math.Min(directives.Tokens ?? settings.OutputTokens, limit);
            var tokens = script.Next is not null ? []
                : Answers.Tokens(script.Results is { Count: > 0 } results ? ToolScript.Answer(results) : Answers.Text(directives, system, lastUser, wanted), limit);
            // OpenAI's 'stop': the answer ends before the first of them it would have contained (finish reason "stop").
            var stops = request["stop"] switch
            {
                JsonValue one when one.TryGetValue<string>(out var text) => [text],
                JsonArray many => many.Select(s => s?.GetValue<string>() ?? "").Where(s => s.Length > 0).ToList(),
                _ => new List<string>(),
            };
            var answer = string.Concat(tokens);
            var stopAt = stops.Select(s => answer.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
            if (stopAt >= 0)
            {
                tokens = Answers.Tokens(answer[..stopAt], limit);
            }
            var finish = stopAt >= 0 ? "stop" : tokens.Count >= limit ? "length" : call is not null ? "tool_calls" : "stop";
            var usage = new Usage(Answers.CountPrompt(conversation), tokens.Count + (call is null ? 0 : Answers.O200k.CountTokens(call.Arguments)));
            var id = $"chatcmpl-{Guid.NewGuid():N}";
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

            if (!stream)
            {
                await Task.Delay(directives.TokenDelay * tokens.Count, http.RequestAborted);
                await http.Response.WriteAsJsonAsync(Completion(id, created, model, string.Concat(tokens), finish, usage, call), http.RequestAborted);
                return;
            }

            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            await Send(http, Chunk(id, created, model, w => { w.WriteString("role", "assistant"); w.WriteString("content", ""); }, null));
            if (call is not null)
            {
                await Send(http, Chunk(id, created, model, w => ToolCall(w, call), null));
            }
            for (var i = 0; i < tokens.Count; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(directives.TokenDelay, http.RequestAborted);
                }
                if (i == directives.FailAfter)
                {
                    http.Abort();
                    return;
                }
                if (i == directives.HangAfter)
                {
                    await Task.Delay(Timeout.Infinite, http.RequestAborted);
                }
                var text = tokens[i];
                await Send(http, Chunk(id, created, model, w => w.WriteString("content", text), null));
            }
            await Send(http, Chunk(id, created, model, _ => { }, finish));
            if (includeUsage)
            {
                await Send(http, UsageChunk(id, created, model, usage));
            }
            await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            stats.Abandoned();
        }
    }

    private sealed record Usage(int Prompt, int Completion);

    // The request's body, counted in the stats, as JSON; not valid when it cannot be parsed. Every endpoint reads it so.
    internal static async Task<(bool Valid, JsonNode? Request)> ReadAsync(HttpContext http, MockLlmStats stats)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        stats.Received(body);
        try
        {
            return (true, JsonNode.Parse(body));
        }
        catch (JsonException)
        {
            return (false, null);
        }
    }

    internal static IResult? Unauthorized(HttpContext http, MockLlmOptions options) =>
        options.ApiKey is { Length: > 0 } key && http.Request.Headers.Authorization != $"Bearer {key}"
            ? TypedResults.Json(new { error = new { message = "Incorrect API key provided.", type = "invalid_request_error", param = (string?)null, code = "invalid_api_key" } }, statusCode: 401)
            : null;

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };

    internal static Task Error(HttpContext http, int status, string message, string type, string? code, string? param = null)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { error = new { message, type, param, code } });
    }

    private static object Completion(string id, long created, string model, string text, string finish, Usage usage, ToolCall? call) => new
    {
        id,
        @object = "chat.completion",
        created,
        model,
        choices = new[]
        {
            new
            {
                index = 0,
                message = new
                {
                    role = "assistant",
                    content = text,
                    tool_calls = call is not null ? new[] { new { id = call.Id, type = "function", function = new { name = call.Name, arguments = call.Arguments } } } : null,
                },
                finish_reason = finish,
            },
        },
        usage = new { prompt_tokens = usage.Prompt, completion_tokens = usage.Completion, total_tokens = usage.Prompt + usage.Completion },
    };

    private static void ToolCall(Utf8JsonWriter w, ToolCall call)
    {
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteString("id", call.Id);
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", call.Name);
        w.WriteString("arguments", call.Arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static byte[] Chunk(string id, long created, string model, Action<Utf8JsonWriter> delta, string? finish) =>
        Write(w =>
        {
            Header(w, id, created, model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            delta(w);
            w.WriteEndObject();
            if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
            w.WriteEndObject();
            w.WriteEndArray();
        });

    private static byte[] UsageChunk(string id, long created, string model, Usage usage) =>
        Write(w =>
        {
            Header(w, id, created, model);
            w.WriteStartArray("choices");
            w.WriteEndArray();
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", usage.Prompt);
            w.WriteNumber("completion_tokens", usage.Completion);
            w.WriteNumber("total_tokens", usage.Prompt + usage.Completion);
            w.WriteEndObject();
        });

    private static void Header(Utf8JsonWriter w, string id, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task Send(HttpContext http, byte[] chunk)
    {
        await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }
}
