using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.MockLlm;

// POST /v1/messages in Anthropic's wire format (the Messages API, streamed or not), answering as Completions does:
// the same directives, the same deterministic words, the same o200k counts.
public static class Messages
{
    public static IEndpointRouteBuilder MapMessages(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages", Create);
        return app;
    }

    public static async Task Create(HttpContext http, IOptions<MockLlmOptions> options, MockLlmStats stats)
    {
        var settings = options.Value;
        if (settings.ApiKey is { Length: > 0 } key && http.Request.Headers["x-api-key"] != key)
        {
            await Error(http, 401, "authentication_error", "invalid x-api-key");
            return;
        }
        var (valid, request) = await Completions.ReadAsync(http, stats);
        if (!valid)
        {
            await Error(http, 400, "invalid_request_error", "The body is not valid JSON.");
            return;
        }
        var model = request?["model"]?.GetValue<string>();
        if (model is null || !settings.Models.Contains(model))
        {
            await Error(http, 404, "not_found_error", $"model: {model}");
            return;
        }
        if (request!["messages"] is not JsonArray { Count: > 0 } messages || request["max_tokens"] is null)
        {
            await Error(http, 400, "invalid_request_error", "messages and max_tokens are required.");
            return;
        }

        var conversation = messages.Select(m => (Role: m?["role"]?.GetValue<string>() ?? "user", Content: TextOf(m?["content"]))).ToList();
        var system = TextOf(request["system"]);
        if (system.Length > 0)
        {
            conversation.Insert(0, ("system", system));
        }
        var lastUser = conversation.LastOrDefault(m => m.Role == "user").Content ?? "";
        var directives = Directives.Read(settings, http.Request.Headers["X-Mock"], lastUser);
        var limit = (int)request["max_tokens"]!.GetValue<long>();
        var stream = request["stream"]?.GetValue<bool>() == true;
        var id = $"msg_{Guid.NewGuid():N}";

        try
        {
            await Task.Delay(directives.FirstTokenLatency, http.RequestAborted);
            if (directives.Hang)
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
            if (directives.ErrorStatus is { } status)
            {
                await Error(http, status, status >= 500 ? "api_error" : "invalid_request_error", $"The mock was asked to fail with {status}.");
                return;
            }
            var tokens = Answers.Tokens(Answers.Text(directives, system, lastUser, Math.Min(directives.Tokens ?? settings.OutputTokens, limit)), limit);
            var stop = tokens.Count >= limit ? "max_tokens" : "end_turn";
            var input = Answers.CountPrompt(conversation);

            if (!stream)
            {
                await Task.Delay(directives.TokenDelay * tokens.Count, http.RequestAborted);
                await http.Response.WriteAsJsonAsync(new
                {
                    id, type = "message", role = "assistant", model,
                    content = new[] { new { type = "text", text = string.Concat(tokens) } },
                    stop_reason = stop, stop_sequence = (string?)null,
                    usage = new { input_tokens = input, output_tokens = tokens.Count },
                }, http.RequestAborted);
                return;
            }

            http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            http.Response.ContentType = "text/event-stream";
            await Send(http, "message_start", new
            {
                type = "message_start",
                message = new { id, type = "message", role = "assistant", model, content = Array.Empty<object>(), stop_reason = (string?)null, stop_sequence = (string?)null, usage = new { input_tokens = input, output_tokens = 1 } },
            });
            await Send(http, "content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "text", text = "" } });
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
                await Send(http, "content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "text_delta", text = tokens[i] } });
            }
            await Send(http, "content_block_stop", new { type = "content_block_stop", index = 0 });
            await Send(http, "message_delta", new { type = "message_delta", delta = new { stop_reason = stop, stop_sequence = (string?)null }, usage = new { output_tokens = tokens.Count } });
            await Send(http, "message_stop", new { type = "message_stop" });
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            stats.Abandoned();
        }
    }

    private static string TextOf(JsonNode? content) => content switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonArray blocks => string.Concat(blocks.Select(b => b?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };

    private static Task Error(HttpContext http, int status, string type, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new { type = "error", error = new { type, message } });
    }

    private static async Task Send(HttpContext http, string name, object data)
    {
        await http.Response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(data)}\n\n", http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }
}
