using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// A request to one of OpenAI's text APIs (chat completions, responses), checked and translated to a metered turn.
public static class OpenAiTurn
{
    // The chat model a request names; an embedding model is not one.
    public static JsonHttpResult<OpenAiError>? FindModel(ModelCatalog catalog, string? id, out PricedModel model)
    {
        model = null!;
        if (string.IsNullOrWhiteSpace(id))
        {
            return OpenAiError.Invalid("'model' is required.", "model");
        }
        if (catalog.FindEmbedding(id) is not null)
        {
            return OpenAiError.Invalid($"'{id}' is an embedding model: use POST /v1/embeddings with it.", "model");
        }
        model = catalog.Find(id)!;
        return model is null ? OpenAiError.ModelNotFound(id) : null;
    }

    // Tools asked for, which this gateway's OpenAI APIs do not run: refused by name, not ignored. An empty list and a
    // tool_choice of "auto" or "none" ask for nothing.
    public static JsonHttpResult<OpenAiError>? ToolsAskedFor(JsonElement? tools, JsonElement? toolChoice)
    {
        if (tools is { ValueKind: not JsonValueKind.Null } list && !(list.ValueKind == JsonValueKind.Array && list.GetArrayLength() == 0))
        {
            return OpenAiError.Invalid("Tools are not supported by this gateway.", "tools");
        }
        return toolChoice is { } choice && !(choice.ValueKind == JsonValueKind.Null || choice.ValueKind == JsonValueKind.String && choice.GetString() is "auto" or "none")
            ? OpenAiError.Invalid("Tools are not supported by this gateway, so 'tool_choice' can only be \"auto\" or \"none\".", "tool_choice")
            : null;
    }

    // The checks every text API makes once its prompt is known; the parameters are named as each API names them.
    public static (MeteredTurn? Turn, JsonHttpResult<OpenAiError>? Error) Create(
        PricedModel model, List<AI.ChatMessage> prompt, string promptParam, int? maxOutput, string maxOutputParam, float? temperature, float? topP,
        bool stream, string requestHash, TokenCounter tokens, IList<string>? stop = null)
    {
        var limit = maxOutput ?? model.MaxOutputTokens;
        if (limit < 1 || limit > model.MaxOutputTokens)
        {
            return (null, OpenAiError.Invalid($"'{maxOutputParam}' must be between 1 and {model.MaxOutputTokens} for {model.Id}.", maxOutputParam));
        }
        if (temperature is < 0 or > 2)
        {
            return (null, OpenAiError.Invalid("'temperature' must be between 0 and 2.", "temperature"));
        }
        if (topP is < 0 or > 1)
        {
            return (null, OpenAiError.Invalid("'top_p' must be between 0 and 1.", "top_p"));
        }
        var promptTokens = tokens.CountPrompt(prompt);
        if (promptTokens + limit > model.ContextTokens)
        {
            return (null, OpenAiError.Invalid(
                $"The {promptParam} are {promptTokens} tokens; with {limit} for the answer that exceeds {model.Id}'s context of {model.ContextTokens}.", promptParam));
        }
        return (new MeteredTurn(model, prompt, promptTokens, limit)
        {
            LimitChosenByCaller = maxOutput is not null,
            Settings = new AI.ChatOptions { Temperature = temperature, TopP = topP, StopSequences = stop is { Count: > 0 } ? stop : null },
            Stream = stream,
            RequestHash = requestHash,
        }, null);
    }
}

// How one OpenAI text API words a metered answer: as one JSON object, or as its stream of events; refusals in OpenAI's
// error shape. One per request.
public abstract class OpenAiFormat<TAnswer> : TurnFormat<TAnswer, Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>>>
{
    public abstract override string Endpoint { get; }

    public override System.Text.Json.JsonSerializerOptions Json => OpenAiWire.Json;

    public abstract TAnswer Answer(Guid id, long created, PricedModel model, UpstreamCall call, Usage usage);

    public abstract Task<bool> TextAsync(EventStream events, string text);

    // The closing events, in one write with the end of the response.
    public abstract Task EndAsync(EventStream events, TAnswer answer);

    // The model failed after output began: what was produced is in the answer (and charged), and the failure said.
    public abstract Task FailAsync(EventStream events, TAnswer answer, Refusal failure);

    public override TAnswer Answer(SettledTurn turn) => Answer(turn.Id, turn.Created, turn.Model, turn.Call, turn.Usage);

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> Refused(Refusal refusal) => OpenAiError.From(refusal);

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> InvalidKey(string problem) =>
        OpenAiError.Invalid($"The Idempotency-Key header {problem}.", IdempotencyKeys.Header);

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> KeyStillRunning() =>
        OpenAiError.Of(409, "A request with this Idempotency-Key is still running; retry when it has finished.", "invalid_request_error", null, "conflict");

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> KeyMismatch() =>
        OpenAiError.Of(422, "This Idempotency-Key was used for a different request.", "invalid_request_error", null, "idempotency_key_reused");

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> Answered(TAnswer answer) =>
        TypedResults.Json(answer, OpenAiWire.Json);

    public override Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>> Streamed(EventStreamResult stream) => stream;

    // Only the text is OpenAI's to stream here; a provider's activity (reasoning, tool calls) is not sent.
    public override Task<bool> SendAsync(EventStream events, AnswerPiece piece) => piece is TextPiece text ? TextAsync(events, text.Text) : Task.FromResult(true);

    public override Task EndAsync(EventStream events, TAnswer answer, Refusal? failure) =>
        failure is null ? EndAsync(events, answer) : FailAsync(events, answer, failure);
}
