using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// OpenAI's Responses API (POST /v1/responses), which today's OpenAI clients call by default (the openai SDKs'
// responses.create, the Vercel AI SDK's default provider, LangChain's useResponsesApi). The upstream speaks chat
// completions, so the input is translated to a chat prompt and the answer back to a response; metered through
// MeteredTurns exactly as /v1/chat/completions is. Nothing is stored: store, previous_response_id and
// conversations are refused, as are tools.
public static class ResponsesApi
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization().MapPost("/responses", Respond)
            .WithSummary("OpenAI's Responses API, streamed or not, charged in credits; nothing is stored.");
        return app;
    }

    public static async Task<Results<EventStreamResult, JsonHttpResult<ResponseObject>, JsonHttpResult<OpenAiError>>> Respond(
        HttpContext http, [AsParameters] TurnServices services)
    {
        var (request, invalid) = await OpenAiWire.ReadAsync<ResponseRequest>(http.Request);
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
        if (Prompt(request, services.Options.Value.MaxMessageLength, out var wrong, out var param) is not { } prompt)
        {
            return OpenAiError.Invalid(wrong, param);
        }
        var (turn, problem) = OpenAiTurn.Create(model, prompt, "input", request.MaxOutputTokens, "max_output_tokens", request.Temperature, request.TopP,
            request.Stream == true, IdempotencyKeys.Hash(request), services.Meter.Tokens);
        if (problem is not null)
        {
            return problem;
        }
        return await services.Turns.RunAsync(http, turn!, new ResponseFormat(request));
    }

    // What this gateway cannot do, refused by name rather than ignored: a caller relying on it would get a wrong answer.
    private static JsonHttpResult<OpenAiError>? Unsupported(ResponseRequest request)
    {
        if (OpenAiTurn.ToolsAskedFor(request.Tools, request.ToolChoice) is { } tools)
        {
            return tools;
        }
        if (request.PreviousResponseId is not null)
        {
            return OpenAiError.Invalid("Responses are not stored here, so none can be continued: send the whole conversation as 'input'.", "previous_response_id");
        }
        if (request.Conversation is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAiError.Invalid("Conversations are not stored here: send the whole conversation as 'input'.", "conversation");
        }
        if (request.Store == true)
        {
            return OpenAiError.Invalid("Responses are not stored here: send store: false or leave it out.", "store");
        }
        if (request.Background == true)
        {
            return OpenAiError.Invalid("Background responses are not supported by this gateway.", "background");
        }
        if (request.Prompt is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAiError.Invalid("Stored prompt templates are not supported by this gateway: send 'instructions' and 'input'.", "prompt");
        }
        if (request.Text?.Format is { } format && format.Type is not (null or "text"))
        {
            return OpenAiError.Invalid($"Only plain text output is supported, not '{format.Type}'.", "text.format");
        }
        if (request.Reasoning is { ValueKind: JsonValueKind.Object } reasoning && reasoning.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.Null))
        {
            return OpenAiError.Invalid("Reasoning options are not supported by this gateway's models.", "reasoning");
        }
        if (request.Include is { ValueKind: JsonValueKind.Array } include && include.GetArrayLength() > 0)
        {
            return OpenAiError.Invalid("Extra output ('include') is not supported by this gateway.", "include");
        }
        return null;
    }

    // instructions become the system message; input is a string (one user message) or a list of messages whose
    // content is text (a string, or input_text / output_text parts). Anything else is named in the 400.
    private static List<AI.ChatMessage>? Prompt(ResponseRequest request, int maxLength, out string wrong, out string param)
    {
        param = "input";
        wrong = "'input' must be a non-empty string or a non-empty array of messages (role user, system, developer or assistant) with text content.";
        var prompt = new List<AI.ChatMessage>();
        if (request.Instructions is { Length: > 0 } instructions)
        {
            if (instructions.Length > maxLength)
            {
                (param, wrong) = ("instructions", $"'instructions' has {instructions.Length} characters; at most {maxLength} are allowed.");
                return null;
            }
            prompt.Add(new AI.ChatMessage(AI.ChatRole.System, instructions));
        }
        var input = request.Input;
        if (input.ValueKind == JsonValueKind.String)
        {
            var text = input.GetString()!;
            if (text.Length == 0)
            {
                return null;
            }
            if (text.Length > maxLength)
            {
                wrong = $"'input' has {text.Length} characters; at most {maxLength} are allowed.";
                return null;
            }
            prompt.Add(new AI.ChatMessage(AI.ChatRole.User, text));
            return prompt;
        }
        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            return null;
        }
        var index = 0;
        foreach (var item in input.EnumerateArray())
        {
            param = $"input[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                wrong = $"'{param}' must be a message object.";
                return null;
            }
            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
            if (type != "message")
            {
                wrong = $"'{param}' is a '{type}' item; only messages with text content are supported (this gateway runs no tools and stores no items).";
                return null;
            }
            AI.ChatRole? role = (item.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null) switch
            {
                "system" or "developer" => AI.ChatRole.System,
                "user" => AI.ChatRole.User,
                "assistant" => AI.ChatRole.Assistant,
                _ => null,
            };
            if (role is null)
            {
                (param, wrong) = ($"input[{index}].role", $"'input[{index}].role' must be user, system, developer or assistant.");
                return null;
            }
            if (Text(item.TryGetProperty("content", out var c) ? c : default, index, out wrong, out var contentParam) is not { } text)
            {
                param = contentParam;
                return null;
            }
            if (text.Length > maxLength)
            {
                (param, wrong) = ($"input[{index}].content", $"'input[{index}].content' has {text.Length} characters; a message may have at most {maxLength}.");
                return null;
            }
            prompt.Add(new AI.ChatMessage(role.Value, text));
            index++;
        }
        return prompt;
    }

    private static string? Text(JsonElement content, int index, out string wrong, out string param)
    {
        param = $"input[{index}].content";
        wrong = $"'{param}' must be a string or an array of input_text parts.";
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var text = new System.Text.StringBuilder();
        var part = 0;
        foreach (var element in content.EnumerateArray())
        {
            var type = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type is not ("input_text" or "output_text" or "text") || !element.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                param = $"input[{index}].content[{part}]";
                wrong = type is null or "input_text" or "output_text" or "text"
                    ? $"'{param}' must be a text part ({{\"type\": \"input_text\", \"text\": \"…\"}})."
                    : $"'{param}' is '{type}' content; only text is supported by this gateway.";
                return null;
            }
            text.Append(value.GetString());
            part++;
        }
        return text.ToString();
    }

    // A response object, and its stream of typed events: response.created, response.in_progress, the message
    // item and its text part added, response.output_text.delta for each piece, then the text, part and item done
    // and response.completed (response.incomplete when cut at the output limit, response.failed when the model
    // failed midway), each with its sequence_number.
    private sealed class ResponseFormat(ResponseRequest request) : OpenAiFormat<ResponseObject>
    {
        private int _sequence;
        private string _itemId = "";

        public override string Endpoint => "responses";

        public override string Kind => "response";

        public override ResponseObject Answer(Guid id, long created, PricedModel model, UpstreamCall call, Usage usage)
        {
            var (status, incomplete, error) = call.End switch
            {
                CallEnd.Failed => ("failed", null, new ResponseError("server_error", call.FailureDetail ?? "The model failed.")),
                CallEnd.CallerLeft => ("cancelled", null, null),
                _ when call.FinishReason == "length" => ("incomplete", new IncompleteDetails("max_output_tokens"), null),
                _ => ("completed", (IncompleteDetails?)null, (ResponseError?)null),
            };
            var message = new OutputMessage("message", $"msg_{id:N}", status == "completed" ? "completed" : "incomplete", "assistant",
                [new OutputText("output_text", call.Text, [])]);
            return Response(id, created, model.Id, status, [message], call.Text,
                new ResponseUsage(usage.InputTokens, new InputTokensDetails(0), usage.OutputTokens, new OutputTokensDetails(0), usage.InputTokens + usage.OutputTokens))
                with { IncompleteDetails = incomplete, Error = error };
        }

        public override Task<bool> StartAsync(EventStream events, Guid id, long created, string model)
        {
            _itemId = $"msg_{id:N}";
            var response = Response(id, created, model, "in_progress", [], "", null);
            return events.SendEventsAsync(
            [
                Event("response.created", new { response }),
                Event("response.in_progress", new { response }),
                Event("response.output_item.added", new { output_index = 0, item = new OutputMessage("message", _itemId, "in_progress", "assistant", []) }),
                Event("response.content_part.added", new { item_id = _itemId, output_index = 0, content_index = 0, part = new OutputText("output_text", "", []) }),
            ]);
        }

        public override Task<bool> TextAsync(EventStream events, string text) =>
            events.SendEventsAsync([Event("response.output_text.delta", new { item_id = _itemId, output_index = 0, content_index = 0, delta = text, logprobs = Array.Empty<object>() })]);

        public override Task EndAsync(EventStream events, ResponseObject response)
        {
            var item = response.Output[0];
            var part = item.Content[0];
            return events.EndWithEventsAsync(
            [
                Event("response.output_text.done", new { item_id = item.Id, output_index = 0, content_index = 0, text = part.Text, logprobs = Array.Empty<object>() }),
                Event("response.content_part.done", new { item_id = item.Id, output_index = 0, content_index = 0, part }),
                Event("response.output_item.done", new { output_index = 0, item }),
                Event(response.Status == "incomplete" ? "response.incomplete" : "response.completed", new { response }),
            ]);
        }

        public override Task FailAsync(EventStream events, ResponseObject response, Refusal failure) =>
            events.EndWithEventsAsync([Event("response.failed", new { response })]);

        public override async Task ReplayAsync(EventStream events, ResponseObject stored)
        {
            var id = Guid.ParseExact(stored.Id["resp_".Length..], "N");
            await StartAsync(events, id, stored.CreatedAt, stored.Model);
            await TextAsync(events, stored.OutputText);
            await (stored.Status == "failed" ? FailAsync(events, stored, null!) : EndAsync(events, stored));
        }

        private ResponseObject Response(Guid id, long created, string model, string status, IReadOnlyList<OutputMessage> output, string text, ResponseUsage? usage) =>
            new($"resp_{id:N}", "response", created, status, null, null, request.Instructions, request.MaxOutputTokens, model, output, text,
                false, null, request.Temperature ?? 1, request.TopP ?? 1, new ResponseText(new ResponseTextFormat("text")), "auto", [],
                "disabled", false, usage, request.Metadata ?? []);

        // OpenAI's events carry their type and a sequence number first, then their own fields.
        private (string Name, string Json) Event(string type, object fields)
        {
            var json = JsonSerializer.Serialize(fields, OpenAiWire.Json);
            return (type, $"{{\"type\":\"{type}\",\"sequence_number\":{_sequence++},{json[1..]}");
        }
    }
}

public sealed record ResponseRequest(
    string? Model,
    JsonElement Input,
    string? Instructions,
    int? MaxOutputTokens,
    float? Temperature,
    float? TopP,
    bool? Stream,
    JsonElement? Tools,
    JsonElement? ToolChoice,
    string? PreviousResponseId,
    JsonElement? Conversation,
    bool? Store,
    bool? Background,
    JsonElement? Prompt,
    ResponseText? Text,
    JsonElement? Reasoning,
    JsonElement? Include,
    Dictionary<string, string>? Metadata);

public sealed record ResponseText(ResponseTextFormat? Format);

public sealed record ResponseTextFormat(string? Type);

public sealed record ResponseObject(
    string Id,
    string Object,
    long CreatedAt,
    string Status,
    ResponseError? Error,
    IncompleteDetails? IncompleteDetails,
    string? Instructions,
    int? MaxOutputTokens,
    string Model,
    IReadOnlyList<OutputMessage> Output,
    string OutputText,
    bool ParallelToolCalls,
    string? PreviousResponseId,
    float Temperature,
    float TopP,
    ResponseText Text,
    string ToolChoice,
    IReadOnlyList<object> Tools,
    string Truncation,
    bool Store,
    ResponseUsage? Usage,
    Dictionary<string, string> Metadata);

public sealed record ResponseError(string Code, string Message);

public sealed record IncompleteDetails(string Reason);

public sealed record OutputMessage(string Type, string Id, string Status, string Role, IReadOnlyList<OutputText> Content);

public sealed record OutputText(string Type, string Text, IReadOnlyList<object> Annotations);

public sealed record ResponseUsage(long InputTokens, InputTokensDetails InputTokensDetails, long OutputTokens, OutputTokensDetails OutputTokensDetails, long TotalTokens);

public sealed record InputTokensDetails(long CachedTokens);

public sealed record OutputTokensDetails(long ReasoningTokens);
