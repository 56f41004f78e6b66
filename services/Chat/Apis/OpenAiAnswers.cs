using System.Security.Claims;
using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// A request to one of OpenAI's text APIs (chat completions, responses), checked and translated to a prompt.
public sealed record OpenAiTurn(
    PricedModel Model, List<AI.ChatMessage> Prompt, int PromptTokens, int MaxOutput, bool LimitChosenByCaller, AI.ChatOptions Settings, bool Stream,
    string RequestHash)
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

    // The checks every text API makes once its prompt is known; the parameters are named as each API names them.
    public static (OpenAiTurn? Turn, JsonHttpResult<OpenAiError>? Error) Create(
        PricedModel model, List<AI.ChatMessage> prompt, string promptParam, int? maxOutput, string maxOutputParam, float? temperature, float? topP,
        bool stream, string requestHash, TokenCounter tokens)
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
        return (new OpenAiTurn(model, prompt, promptTokens, limit, maxOutput is not null, new AI.ChatOptions { Temperature = temperature, TopP = topP },
            stream, requestHash), null);
    }
}

// How one OpenAI API words a metered answer: as one JSON object, or as its stream of events. One per request.
public abstract class AnswerFormat<TAnswer>
{
    // The Idempotency-Key's scope.
    public abstract string Endpoint { get; }

    // The usage row's kind, and the hold's reason.
    public abstract string Kind { get; }

    public abstract TAnswer Answer(Guid id, long created, PricedModel model, UpstreamCall call, Usage usage);

    public abstract Task<bool> StartAsync(EventStream events, Guid id, long created, string model);

    public abstract Task<bool> TextAsync(EventStream events, string text);

    // The closing events, in one write with the end of the response.
    public abstract Task EndAsync(EventStream events, TAnswer answer);

    // The model failed after output began: what was produced is in the answer (and charged), and the failure said.
    public abstract Task FailAsync(EventStream events, TAnswer answer, Refusal failure);

    // An Idempotency-Key's stored answer, streamed again.
    public abstract Task ReplayAsync(EventStream events, TAnswer stored);
}

// The one metered path of the OpenAI-compatible text APIs: claim the Idempotency-Key, reserve, call the model
// (always streamed upstream), answer as JSON or stream, and bill what was produced, whatever became of the caller.
public static class OpenAiAnswers
{
    public static async Task<Results<EventStreamResult, JsonHttpResult<TAnswer>, JsonHttpResult<OpenAiError>>> AnswerAsync<TAnswer>(
        HttpContext http, ClaimsPrincipal user, TurnServices services, OpenAiTurn turn, AnswerFormat<TAnswer> format)
    {
        var (_, meter, keys, _, clock, _) = services;
        var cancellationToken = http.RequestAborted;
        var (model, keyRefusal) = await services.ProviderKeys.ForCallerAsync(turn.Model, http.Request.Headers[CallerAuthentication.HeaderName], cancellationToken);
        if (keyRefusal is not null)
        {
            return OpenAiError.From(keyRefusal);
        }
        turn = turn with { Model = model };
        string? key = http.Request.Headers[IdempotencyKeys.Header];
        if (IdempotencyKeys.Problem(key) is { } keyProblem)
        {
            return OpenAiError.Invalid($"The Idempotency-Key header {keyProblem}.", null);
        }

        var userId = user.GetUserId();
        var claim = await keys.ClaimAsync(userId, key, format.Endpoint, turn.RequestHash, cancellationToken);
        switch (claim)
        {
            case Replay replay:
                http.Response.Headers["Idempotent-Replayed"] = "true";
                var stored = JsonSerializer.Deserialize<TAnswer>(replay.Response, OpenAiWire.Json)!;
                return turn.Stream ? new EventStreamResult(events => format.ReplayAsync(events, stored)) : TypedResults.Json(stored, OpenAiWire.Json);
            case StillRunning:
                return OpenAiError.Of(409, "A request with this Idempotency-Key is still running; retry when it has finished.", "invalid_request_error", null, "conflict");
            case KeyReused:
                return OpenAiError.Of(422, "This Idempotency-Key was used for a different request.", "invalid_request_error", null, "idempotency_key_reused");
        }

        var reason = $"{char.ToUpperInvariant(format.Kind[0])}{format.Kind[1..]}: {model.Id}";
        var (reservation, refusal, maxOutput) = await meter.ReserveForAsync(userId, model, turn.PromptTokens, turn.MaxOutput, turn.LimitChosenByCaller, reason, cancellationToken);
        if (refusal is not null)
        {
            await keys.ReleaseAsync(claim);
            return OpenAiError.From(refusal);
        }

        var call = meter.Call(model, turn.Prompt, maxOutput, cancellationToken, turn.Settings);
        var first = await call.NextAsync();
        if (!call.ProducedOutput && call.End is CallEnd.Failed or CallEnd.CallerLeft)
        {
            await call.DisposeAsync();
            await meter.ReleaseAsync(reservation, call.FailureDetail ?? "The caller left before the model answered");
            await keys.ReleaseAsync(claim);
            return OpenAiError.From(new Refusal(call.End == CallEnd.Failed ? call.FailureStatus : 499, "Model failed", call.FailureDetail ?? "The caller left."));
        }

        var created = clock.GetUtcNow().ToUnixTimeSeconds();
        async Task<(TAnswer Answer, Usage Usage)> SettleAsync()
        {
            await call.DisposeAsync();
            var usage = meter.Stage(reservation, format.Kind, model, turn.PromptTokens, call);
            var answer = format.Answer(reservation.Id, created, model, call, usage);
            keys.Complete(claim, () => JsonSerializer.Serialize(answer, OpenAiWire.Json));
            await meter.CommitAsync();
            return (answer, usage);
        }

        if (!turn.Stream)
        {
            while (await call.NextAsync() is not null)
            {
            }
            var (answer, usage) = await SettleAsync();
            // Failed after some output: what was produced is billed, as for a stream that breaks off, and said so.
            return call.End == CallEnd.Failed
                ? OpenAiError.From(new Refusal(call.FailureStatus, "Model failed",
                    $"{call.FailureDetail} The {usage.OutputTokens} tokens produced before it failed were charged ({usage.Credits} credits)."))
                : TypedResults.Json(answer, OpenAiWire.Json);
        }

        return new EventStreamResult(async events =>
        {
            var sent = await format.StartAsync(events, reservation.Id, created, model.Id);
            for (var piece = first; sent && piece is not null; piece = await call.NextAsync())
            {
                if (piece is TextPiece text)
                {
                    sent = await format.TextAsync(events, text.Text);
                }
            }
            if (!sent)
            {
                call.CallerLeft();
            }
            var (answer, _) = await SettleAsync();
            if (call.End == CallEnd.Failed)
            {
                await format.FailAsync(events, answer, new Refusal(call.FailureStatus, "Model failed", call.FailureDetail!));
                return;
            }
            await format.EndAsync(events, answer);
        });
    }
}
