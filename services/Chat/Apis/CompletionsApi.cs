using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using AI = Microsoft.Extensions.AI;

namespace Gateway.Chat.Apis;

// OpenAI's chat completions and models, so an OpenAI SDK pointed at the edge with an sk_live_ key works
// unchanged. Metered like POST /api/chat; errors in OpenAI's shape; nothing is stored but the usage.
public static class CompletionsApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization();
        api.MapGet("/models", ListModels);
        api.MapPost("/chat/completions", Complete);
        return app;
    }

    public static JsonHttpResult<ModelList> ListModels(ModelCatalog catalog) =>
        TypedResults.Json(new ModelList("list", catalog.All.Select(m => new ModelView(m.Id, "model", 0, "gateway")).ToList()), Json);

    public static async Task<Results<EventStreamResult, JsonHttpResult<Completion>, JsonHttpResult<OpenAiError>>> Complete(
        HttpContext http, ClaimsPrincipal user, [AsParameters] TurnServices services)
    {
        var (_, meter, keys, catalog, clock, options) = services;
        var cancellationToken = http.RequestAborted;
        CompletionRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<CompletionRequest>(http.Request.Body, Json, cancellationToken);
        }
        catch (JsonException ex) when (Problems.NotJson(ex) is { } notJson)
        {
            return OpenAiError.Invalid(notJson, "body");
        }
        catch (JsonException ex)
        {
            var field = ex.Path?.TrimStart('$', '.');
            return string.IsNullOrEmpty(field) ? OpenAiError.Invalid("The body is not valid JSON.", null) : OpenAiError.Invalid($"'{field}' is not valid.", field);
        }
        if (request is null)
        {
            return OpenAiError.Invalid("The body must be a JSON object.", null);
        }
        if (string.IsNullOrWhiteSpace(request.Model))
        {
            return OpenAiError.Invalid("'model' is required.", "model");
        }
        if (catalog.Find(request.Model) is not { } model)
        {
            return OpenAiError.Of(404, $"The model '{request.Model}' does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");
        }
        if (request.N is not (null or 1))
        {
            return OpenAiError.Invalid("Only n = 1 is supported.", "n");
        }
        if (request.Tools is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAiError.Invalid("Tools are not supported by this gateway.", "tools");
        }
        if (Prompt(request.Messages, options.Value.MaxMessageLength, out var wrong) is not { } prompt)
        {
            return OpenAiError.Invalid(wrong, "messages");
        }
        var maxOutput = request.MaxCompletionTokens ?? request.MaxTokens ?? model.MaxOutputTokens;
        if (maxOutput < 1 || maxOutput > model.MaxOutputTokens)
        {
            return OpenAiError.Invalid($"'max_tokens' must be between 1 and {model.MaxOutputTokens} for {model.Id}.", request.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        }
        if (request.Temperature is < 0 or > 2)
        {
            return OpenAiError.Invalid("'temperature' must be between 0 and 2.", "temperature");
        }
        if (request.TopP is < 0 or > 1)
        {
            return OpenAiError.Invalid("'top_p' must be between 0 and 1.", "top_p");
        }
        var promptTokens = meter.Tokens.CountPrompt(prompt);
        if (promptTokens + maxOutput > model.ContextTokens)
        {
            return OpenAiError.Invalid($"The messages are {promptTokens} tokens; with {maxOutput} for the answer that exceeds {model.Id}'s context of {model.ContextTokens}.", "messages");
        }
        string? key = http.Request.Headers[IdempotencyKeys.Header];
        if (IdempotencyKeys.Problem(key) is { } keyProblem)
        {
            return OpenAiError.Invalid($"The Idempotency-Key header {keyProblem}.", null);
        }

        var userId = user.GetUserId();
        var stream = request.Stream == true;
        var includeUsage = request.StreamOptions?.IncludeUsage == true;
        var claim = await keys.ClaimAsync(userId, key, "completions", IdempotencyKeys.Hash(request), cancellationToken);
        switch (claim)
        {
            case Replay replay:
                http.Response.Headers["Idempotent-Replayed"] = "true";
                var stored = JsonSerializer.Deserialize<Completion>(replay.Response, Json)!;
                return stream ? new EventStreamResult(events => ReplayAsync(events, stored, includeUsage)) : TypedResults.Json(stored, Json);
            case StillRunning:
                return OpenAiError.Of(409, "A request with this Idempotency-Key is still running; retry when it has finished.", "invalid_request_error", null, "conflict");
            case KeyReused:
                return OpenAiError.Of(422, "This Idempotency-Key was used for a different request.", "invalid_request_error", null, "idempotency_key_reused");
        }

        (var reservation, var refusal, maxOutput) = await meter.ReserveForAsync(userId, model, promptTokens, maxOutput,
            limitChosenByCaller: request.MaxCompletionTokens is not null || request.MaxTokens is not null, $"Completion: {model.Id}", cancellationToken);
        if (refusal is not null)
        {
            await keys.ReleaseAsync(claim);
            return OpenAiError.From(refusal);
        }

        var settings = new AI.ChatOptions { Temperature = request.Temperature, TopP = request.TopP };
        var call = meter.Call(model, prompt, maxOutput, cancellationToken, settings);
        var first = await call.NextAsync();
        if (!call.ProducedOutput && call.End is CallEnd.Failed or CallEnd.CallerLeft)
        {
            await call.DisposeAsync();
            await meter.ReleaseAsync(reservation, call.FailureDetail ?? "The caller left before the model answered");
            await keys.ReleaseAsync(claim);
            return OpenAiError.From(new Refusal(call.End == CallEnd.Failed ? call.FailureStatus : 499, "Model failed", call.FailureDetail ?? "The caller left."));
        }

        var id = $"chatcmpl-{reservation.Id:N}";
        var created = clock.GetUtcNow().ToUnixTimeSeconds();

        long charged = 0;
        async Task<Completion> SettleAsync()
        {
            await call.DisposeAsync();
            var usage = meter.Stage(reservation, "completion", model, promptTokens, call);
            charged = usage.Credits;
            var completion = new Completion(id, "chat.completion", created, model.Id,
                [new CompletionChoice(0, new AssistantMessage("assistant", call.Text), FinishReason(call))],
                new CompletionUsage(usage.InputTokens, usage.OutputTokens, usage.InputTokens + usage.OutputTokens));
            keys.Complete(claim, () => JsonSerializer.Serialize(completion, Json));
            await meter.CommitAsync();
            return completion;
        }

        if (!stream)
        {
            while (await call.NextAsync() is not null)
            {
            }
            var completion = await SettleAsync();
            // Failed after some output: what was produced is billed, as for a stream that breaks off, and said so.
            return call.End == CallEnd.Failed
                ? OpenAiError.From(new Refusal(call.FailureStatus, "Model failed",
                    $"{call.FailureDetail} The {completion.Usage.CompletionTokens} tokens produced before it failed were charged ({charged} credits)."))
                : TypedResults.Json(completion, Json);
        }

        return new EventStreamResult(async events =>
        {
            var sent = await events.SendDataAsync(Chunk(id, created, model.Id, new { role = "assistant", content = "" }, null));
            for (var piece = first; sent && piece is not null; piece = await call.NextAsync())
            {
                if (piece is TextPiece text)
                {
                    sent = await events.SendDataAsync(Chunk(id, created, model.Id, new { content = text.Text }, null));
                }
            }
            if (!sent)
            {
                call.CallerLeft();
            }
            var completion = await SettleAsync();
            if (call.End == CallEnd.Failed)
            {
                await events.SendDataAsync(JsonSerializer.Serialize(OpenAiError.Body(new Refusal(call.FailureStatus, "Model failed", call.FailureDetail!)), Json));
                return;
            }
            await FinishAsync(events, completion, includeUsage);
        });
    }

    private static async Task ReplayAsync(EventStream events, Completion stored, bool includeUsage)
    {
        await events.SendDataAsync(Chunk(stored.Id, stored.Created, stored.Model, new { role = "assistant", content = "" }, null));
        await events.SendDataAsync(Chunk(stored.Id, stored.Created, stored.Model, new { content = stored.Choices[0].Message.Content }, null));
        await FinishAsync(events, stored, includeUsage);
    }

    private static Task FinishAsync(EventStream events, Completion completion, bool includeUsage)
    {
        var closing = new List<string> { Chunk(completion.Id, completion.Created, completion.Model, new { }, completion.Choices[0].FinishReason) };
        if (includeUsage)
        {
            closing.Add(JsonSerializer.Serialize(new
            {
                id = completion.Id, @object = "chat.completion.chunk", created = completion.Created, model = completion.Model,
                choices = Array.Empty<object>(), usage = completion.Usage,
            }, Json));
        }
        closing.Add("[DONE]");
        return events.EndWithDataAsync(closing);
    }

    private static string Chunk(string id, long created, string model, object delta, string? finishReason) =>
        JsonSerializer.Serialize(new
        {
            id, @object = "chat.completion.chunk", created, model,
            choices = new[] { new { index = 0, delta, finish_reason = finishReason } },
        }, Json);

    private static string FinishReason(UpstreamCall call) =>
        call.End != CallEnd.Completed ? "stop"
        : call.FinishReason is { Length: > 0 } reason ? reason
        : "stop";

    private static List<AI.ChatMessage>? Prompt(List<CompletionMessage>? messages, int maxLength, out string wrong)
    {
        wrong = "'messages' must be a non-empty array of system, developer, user or assistant messages with text content.";
        if (messages is not { Count: > 0 })
        {
            return null;
        }
        var prompt = new List<AI.ChatMessage>();
        foreach (var message in messages)
        {
            AI.ChatRole? role = message.Role switch
            {
                "system" or "developer" => AI.ChatRole.System,
                "user" => AI.ChatRole.User,
                "assistant" => AI.ChatRole.Assistant,
                _ => null,
            };
            var text = message.Content.ValueKind switch
            {
                JsonValueKind.String => message.Content.GetString(),
                JsonValueKind.Array when message.Content.EnumerateArray().All(p => p.TryGetProperty("type", out var t) && t.GetString() == "text") =>
                    string.Concat(message.Content.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : "")),
                JsonValueKind.Null when message.Role == "assistant" => "",
                _ => null,
            };
            if (role is null || text is null)
            {
                return null;
            }
            if (text.Length > maxLength)
            {
                wrong = $"messages[{prompt.Count}] has {text.Length} characters of content; a message may have at most {maxLength}.";
                return null;
            }
            prompt.Add(new AI.ChatMessage(role.Value, text));
        }
        return prompt;
    }
}

public sealed record CompletionRequest(
    string? Model,
    List<CompletionMessage>? Messages,
    bool? Stream,
    StreamOptions? StreamOptions,
    int? MaxTokens,
    int? MaxCompletionTokens,
    float? Temperature,
    float? TopP,
    int? N,
    JsonElement? Tools);

public sealed record CompletionMessage(string? Role, JsonElement Content);

public sealed record StreamOptions(bool? IncludeUsage);

public sealed record Completion(string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, CompletionUsage Usage);

public sealed record CompletionChoice(int Index, AssistantMessage Message, string FinishReason);

public sealed record AssistantMessage(string Role, string Content);

public sealed record CompletionUsage(long PromptTokens, long CompletionTokens, long TotalTokens);

public sealed record ModelList(string Object, IReadOnlyList<ModelView> Data);

public sealed record ModelView(string Id, string Object, long Created, string OwnedBy);

public sealed record OpenAiError(OpenAiErrorDetail Error)
{
    public static JsonHttpResult<OpenAiError> Of(int status, string message, string type, string? param, string? code) =>
        TypedResults.Json(new OpenAiError(new OpenAiErrorDetail(message, type, param, code)), CompletionsApi.Json, statusCode: status);

    public static JsonHttpResult<OpenAiError> Invalid(string message, string? param) => Of(400, message, "invalid_request_error", param, null);

    public static JsonHttpResult<OpenAiError> From(Refusal refusal)
    {
        var body = Body(refusal).Error;
        return Of(refusal.Status, body.Message, body.Type, null, body.Code);
    }

    public static OpenAiError Body(Refusal refusal) => new(refusal.Status switch
    {
        402 => new OpenAiErrorDetail(refusal.Detail, "insufficient_quota", null, "insufficient_quota"),
        503 => new OpenAiErrorDetail(refusal.Detail, "service_unavailable", null, "billing_unavailable"),
        504 => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_timeout"),
        _ => new OpenAiErrorDetail(refusal.Detail, "server_error", null, "upstream_error"),
    });
}

public sealed record OpenAiErrorDetail(string Message, string Type, string? Param, string? Code);
