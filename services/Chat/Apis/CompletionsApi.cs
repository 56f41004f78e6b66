using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// OpenAI's chat completions and models, so an OpenAI SDK pointed at the edge with an sk_live_ key works
// unchanged. Metered through MeteredTurns, as /v1/responses is; errors in OpenAI's shape; nothing is stored but the usage.
public static class CompletionsApi
{
    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization();
        api.MapGet("/models", ListModels).WithSummary("Lists the models you can call, as OpenAI does.");
        api.MapGet("/models/{**id}", GetModel).WithSummary("Describes one model, as OpenAI does.");
        api.MapPost("/chat/completions", Complete).WithSummary("OpenAI's chat completions, streamed or not, charged in credits.");
        return app;
    }

    public static JsonHttpResult<ModelList> ListModels(ModelCatalog catalog) =>
        TypedResults.Json(new ModelList("list", catalog.All.Select(m => m.Id).Concat(catalog.Embeddings.Select(m => m.Id)).Select(View).ToList()),
            OpenAiWire.Json);

    // A model id may hold a slash ("org/model"), which a client sends escaped.
    public static Results<JsonHttpResult<ModelView>, JsonHttpResult<OpenAiError>> GetModel(string id, ModelCatalog catalog)
    {
        id = Uri.UnescapeDataString(id);
        return catalog.Find(id) is not null || catalog.FindEmbedding(id) is not null ? TypedResults.Json(View(id), OpenAiWire.Json) : OpenAiError.ModelNotFound(id);
    }

    private static ModelView View(string id) => new(id, "model", 0, "gateway");

    public static async Task<Results<EventStreamResult, JsonHttpResult<Completion>, JsonHttpResult<OpenAiError>>> Complete(
        HttpContext http, [AsParameters] TurnServices services)
    {
        var (request, invalid) = await OpenAiWire.ReadAsync<CompletionRequest>(http.Request);
        if (invalid is not null)
        {
            return invalid;
        }
        if (OpenAiTurn.FindModel(services.Catalog, request!.Model, out var model) is { } unknown)
        {
            return unknown;
        }
        if (Unsupported(request) is { } unsupported)
        {
            return unsupported;
        }
        if (StopSequences(request.Stop) is not { } stop)
        {
            return OpenAiError.Invalid($"'stop' must be a string or an array of at most {MaxStopSequences} non-empty strings.", "stop");
        }
        if (Prompt(request.Messages, services.Options.Value.MaxMessageLength, out var wrong, out var param) is not { } prompt)
        {
            return OpenAiError.Invalid(wrong, param);
        }
        var (turn, problem) = OpenAiTurn.Create(model, prompt, "messages", request.MaxCompletionTokens ?? request.MaxTokens,
            request.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens", request.Temperature, request.TopP, request.Stream == true,
            IdempotencyKeys.Hash(request), services.Meter.Tokens, stop);
        if (problem is not null)
        {
            return problem;
        }
        return await services.Turns.RunAsync(http, turn!, new ChatCompletionFormat(request.StreamOptions?.IncludeUsage == true));
    }

    private const int MaxStopSequences = 4;

    // What this gateway cannot do, refused by name rather than ignored: a caller relying on it would get a wrong answer
    // (as /v1/responses refuses its own).
    private static JsonHttpResult<OpenAiError>? Unsupported(CompletionRequest request)
    {
        if (request.N is not (null or 1))
        {
            return OpenAiError.Invalid("Only n = 1 is supported.", "n");
        }
        if (OpenAiTurn.ToolsAskedFor(request.Tools, request.ToolChoice) is { } tools)
        {
            return tools;
        }
        if (request.Functions is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAiError.Invalid("Functions (and tools) are not supported by this gateway.", "functions");
        }
        if (request.FunctionCall is { } call && !(call.ValueKind == JsonValueKind.Null || call.ValueKind == JsonValueKind.String && call.GetString() is "auto" or "none"))
        {
            return OpenAiError.Invalid("Functions are not supported by this gateway, so 'function_call' can only be \"auto\" or \"none\".", "function_call");
        }
        if (request.ResponseFormat is { ValueKind: not JsonValueKind.Null } format
            && !(format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
        {
            return OpenAiError.Invalid("Only plain text output is supported: 'response_format' can only be {\"type\": \"text\"}.", "response_format");
        }
        if (request.Logprobs == true || request.TopLogprobs is not null)
        {
            return OpenAiError.Invalid("Log probabilities are not supported by this gateway.", request.Logprobs == true ? "logprobs" : "top_logprobs");
        }
        return null;
    }

    // OpenAI's 'stop': a string or up to four; none is an empty list, and a malformed one null.
    private static List<string>? StopSequences(JsonElement? stop) => stop switch
    {
        null or { ValueKind: JsonValueKind.Null } => [],
        { ValueKind: JsonValueKind.String } one when one.GetString() is { Length: > 0 } text => [text],
        { ValueKind: JsonValueKind.Array } many when many.GetArrayLength() <= MaxStopSequences
            && many.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString() is { Length: > 0 }) =>
            many.EnumerateArray().Select(s => s.GetString()!).ToList(),
        _ => null,
    };

    // A chat completion, and its stream of chunks ending in "[DONE]".
    private sealed class ChatCompletionFormat(bool includeUsage) : OpenAiFormat<Completion>
    {
        private string _id = "";
        private long _created;
        private string _model = "";

        public override string Endpoint => "completions";

        public override string Kind => "completion";

        public override Completion Answer(Guid id, long created, PricedModel model, UpstreamCall call, Usage usage) =>
            new($"chatcmpl-{id:N}", "chat.completion", created, model.Id,
                [new CompletionChoice(0, new AssistantMessage("assistant", call.Text), FinishReason(call))],
                new CompletionUsage(usage.InputTokens, usage.OutputTokens, usage.InputTokens + usage.OutputTokens));

        public override Task<bool> StartAsync(EventStream events, Guid id, long created, string model)
        {
            (_id, _created, _model) = ($"chatcmpl-{id:N}", created, model);
            return events.SendDataAsync(Chunk(new { role = "assistant", content = "" }, null));
        }

        public override Task<bool> TextAsync(EventStream events, string text) => events.SendDataAsync(Chunk(new { content = text }, null));

        public override Task EndAsync(EventStream events, Completion completion)
        {
            var closing = new List<string> { Chunk(new { }, completion.Choices[0].FinishReason) };
            if (includeUsage)
            {
                closing.Add(JsonSerializer.Serialize(new
                {
                    id = completion.Id, @object = "chat.completion.chunk", created = completion.Created, model = completion.Model,
                    choices = Array.Empty<object>(), usage = completion.Usage,
                }, OpenAiWire.Json));
            }
            closing.Add("[DONE]");
            return events.EndWithDataAsync(closing);
        }

        public override Task FailAsync(EventStream events, Completion completion, Refusal failure) =>
            events.SendDataAsync(JsonSerializer.Serialize(OpenAiError.Body(failure), OpenAiWire.Json));

        public override async Task ReplayAsync(EventStream events, Completion stored)
        {
            (_id, _created, _model) = (stored.Id, stored.Created, stored.Model);
            await events.SendDataAsync(Chunk(new { role = "assistant", content = "" }, null));
            await events.SendDataAsync(Chunk(new { content = stored.Choices[0].Message.Content }, null));
            await EndAsync(events, stored);
        }

        private string Chunk(object delta, string? finishReason) =>
            JsonSerializer.Serialize(new
            {
                id = _id, @object = "chat.completion.chunk", created = _created, model = _model,
                choices = new[] { new { index = 0, delta, finish_reason = finishReason } },
            }, OpenAiWire.Json);

        // An answer cut off before the model finished (its caller left, or the model failed midway) is "length":
        // truncated, the nearest of OpenAI's reasons (a client that strictly reads them has no other), where "stop" told a
        // retry replaying it by its Idempotency-Key that it was whole (the organisation trial). /api/chat says "interrupted".
        private static string FinishReason(UpstreamCall call) =>
            call.End != CallEnd.Completed ? "length"
            : call.FinishReason is { Length: > 0 } reason ? reason
            : "stop";
    }

    // The messages as the model gets them; else what is wrong and where (param: "messages", "messages[1].role", …).
    private static List<AI.ChatMessage>? Prompt(List<CompletionMessage?>? messages, int maxLength, out string wrong, out string param)
    {
        param = "messages";
        wrong = "'messages' must be a non-empty array of system, developer, user or assistant messages with text content.";
        if (messages is not { Count: > 0 })
        {
            return null;
        }
        var prompt = new List<AI.ChatMessage>();
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not { } message)
            {
                (param, wrong) = ($"messages[{i}]", $"messages[{i}] must be a message: an object with a role and content.");
                return null;
            }
            AI.ChatRole? role = message.Role switch
            {
                "system" or "developer" => AI.ChatRole.System,
                "user" => AI.ChatRole.User,
                "assistant" => AI.ChatRole.Assistant,
                _ => null,
            };
            if (role is null)
            {
                (param, wrong) = ($"messages[{i}].role", $"messages[{i}].role must be system, developer, user or assistant.");
                return null;
            }
            var text = message.Content.ValueKind switch
            {
                JsonValueKind.String => message.Content.GetString(),
                JsonValueKind.Array => TextOf(message.Content),
                JsonValueKind.Null when message.Role == "assistant" => "",
                _ => null,
            };
            if (text is null)
            {
                (param, wrong) = ($"messages[{i}].content", $"messages[{i}].content must be text, or an array of text parts ({{\"type\": \"text\", \"text\": \"...\"}}).");
                return null;
            }
            if (text.Length > maxLength)
            {
                (param, wrong) = ($"messages[{i}].content", $"messages[{i}] has {text.Length} characters of content; a message may have at most {maxLength}.");
                return null;
            }
            prompt.Add(new AI.ChatMessage(role.Value, text));
        }
        return prompt;
    }

    // The text of content parts, each {"type": "text", "text": "..."}; null when any part is something else.
    private static string? TextOf(JsonElement parts)
    {
        var text = new System.Text.StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            text.Append(value.GetString());
        }
        return text.ToString();
    }
}

public sealed record CompletionRequest(
    string? Model,
    List<CompletionMessage?>? Messages,
    bool? Stream,
    StreamOptions? StreamOptions,
    int? MaxTokens,
    int? MaxCompletionTokens,
    float? Temperature,
    float? TopP,
    int? N,
    JsonElement? Tools,
    JsonElement? Stop = null,
    JsonElement? ToolChoice = null,
    JsonElement? Functions = null,
    JsonElement? FunctionCall = null,
    JsonElement? ResponseFormat = null,
    bool? Logprobs = null,
    int? TopLogprobs = null);

public sealed record CompletionMessage(string? Role, JsonElement Content);

public sealed record StreamOptions(bool? IncludeUsage);

public sealed record Completion(string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, CompletionUsage Usage);

public sealed record CompletionChoice(int Index, AssistantMessage Message, string FinishReason);

public sealed record AssistantMessage(string Role, string Content);

public sealed record CompletionUsage(long PromptTokens, long CompletionTokens, long TotalTokens);

public sealed record ModelList(string Object, IReadOnlyList<ModelView> Data);

public sealed record ModelView(string Id, string Object, long Created, string OwnedBy);
