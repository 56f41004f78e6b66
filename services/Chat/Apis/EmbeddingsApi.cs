using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text.Json;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Chat.Apis;

// OpenAI's embeddings (POST /v1/embeddings) on the models of Kind Embedding: the input's tokens are counted and
// held, the provider is called through Microsoft.Extensions.AI's embedding generator, and what it reports is
// charged at the model's InputPrice (the tokenizer's count when it reports nothing). A failure or a caller who
// left releases the hold. No Idempotency-Key: an embedding answer is large, and a retry costs a few input tokens.
public static class EmbeddingsApi
{
    // OpenAI's own limit on inputs per request.
    public const int MaxInputs = 2048;

    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization().MapPost("/embeddings", Embed)
            .WithSummary("OpenAI's embeddings: vectors for one text or several, charged per input token.");
        return app;
    }

    public static async Task<Results<JsonHttpResult<EmbeddingList>, JsonHttpResult<OpenAiError>>> Embed(
        HttpContext http, ClaimsPrincipal user, [AsParameters] TurnServices services)
    {
        var (_, _, meter, catalog, _, options) = services;
        var cancellationToken = http.RequestAborted;
        var (request, invalid) = await OpenAiWire.ReadAsync<EmbeddingRequest>(http.Request);
        if (invalid is not null)
        {
            return invalid;
        }
        if (string.IsNullOrWhiteSpace(request!.Model))
        {
            return OpenAiError.Invalid("'model' is required.", "model");
        }
        if (catalog.FindEmbedding(request.Model) is not { } model)
        {
            return catalog.Find(request.Model) is not null
                ? OpenAiError.Invalid($"'{request.Model}' is a chat model; embeddings are served by {string.Join(", ", catalog.Embeddings.Select(m => m.Id))}.", "model")
                : OpenAiError.ModelNotFound(request.Model);
        }
        if (request.EncodingFormat is not (null or "float" or "base64"))
        {
            return OpenAiError.Invalid("'encoding_format' must be \"float\" or \"base64\".", "encoding_format");
        }
        if (request.Dimensions is < 1)
        {
            return OpenAiError.Invalid("'dimensions' must be at least 1.", "dimensions");
        }
        if (Inputs(request.Input, out var wrong, out var param) is not { } inputs)
        {
            return OpenAiError.Invalid(wrong, param);
        }
        long inputTokens = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var count = meter.Tokens.Count(inputs[i]);
            if (count > model.MaxInputTokens)
            {
                return OpenAiError.Invalid($"input[{i}] is {count} tokens; {model.Id} takes at most {model.MaxInputTokens} per input.", $"input[{i}]");
            }
            inputTokens += count;
        }

        var (reservation, refusal) = await meter.ReserveAsync(user.GetUserId(), model.Cost(inputTokens), $"Embedding: {model.Id}", cancellationToken);
        if (refusal is not null)
        {
            return OpenAiError.From(refusal);
        }
        switch (await EmbeddingCall.RunAsync(model, inputs, request.Dimensions, options.Value.Upstream.Timeout, cancellationToken))
        {
            case EmbeddingFailed failed:
                await meter.ReleaseAsync(reservation, failed.Detail);
                return failed.Status == StatusCodes.Status400BadRequest
                    ? OpenAiError.Invalid(failed.Detail, failed.Param)
                    : OpenAiError.From(new Refusal(failed.Status, "Model failed", failed.Detail));
            case EmbeddingCallerLeft:
                await meter.ReleaseAsync(reservation, "The caller left before the model answered");
                return OpenAiError.From(new Refusal(499, "Model failed", "The caller left."));
            case Embedded { Embeddings: var embeddings } when embeddings.Count != inputs.Count:
                await meter.ReleaseAsync(reservation, "The provider answered a different number of embeddings");
                return OpenAiError.From(new Refusal(StatusCodes.Status502BadGateway, "Model failed",
                    $"The model provider answered {embeddings.Count} embeddings for {inputs.Count} inputs."));
            case Embedded { Embeddings: var embeddings }:
                var billed = embeddings.Usage?.InputTokenCount ?? inputTokens;
                var usage = meter.Stage(reservation, "embedding", model.Id, billed, 0, model.Cost(billed), interrupted: false);
                await meter.CommitAsync();
                var base64 = request.EncodingFormat == "base64";
                return TypedResults.Json(new EmbeddingList("list",
                    embeddings.Select((e, i) => new EmbeddingData("embedding", i, base64 ? Base64(e.Vector) : e.Vector.ToArray())).ToList(),
                    model.Id, new EmbeddingUsage(usage.InputTokens, usage.InputTokens)), OpenAiWire.Json);
            default:
                throw new InvalidOperationException("Unknown embedding result.");
        }
    }

    // A string, or an array of strings. Token arrays are refused: the provider's tokenizer is not ours to decode with.
    // The param at fault is the input itself when one of the array's is (input[2]), as OpenAI names it.
    private static List<string>? Inputs(JsonElement input, out string wrong, out string param)
    {
        wrong = $"'input' must be a non-empty string or an array of 1 to {MaxInputs} non-empty strings.";
        param = "input";
        if (input.ValueKind == JsonValueKind.String)
        {
            return input.GetString() is { Length: > 0 } text ? [text] : null;
        }
        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() is 0 or > MaxInputs)
        {
            return null;
        }
        var inputs = new List<string>(input.GetArrayLength());
        foreach (var element in input.EnumerateArray())
        {
            if (element.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            {
                wrong = "'input' as tokens (arrays of integers) is not supported here: send the text.";
                return null;
            }
            if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 } text)
            {
                param = $"input[{inputs.Count}]";
                wrong = $"'{param}' must be a non-empty string.";
                return null;
            }
            inputs.Add(text);
        }
        return inputs;
    }

    // OpenAI's base64: the vector's float32 values, little-endian, as bytes.
    private static string Base64(ReadOnlyMemory<float> vector) => Convert.ToBase64String(MemoryMarshal.AsBytes(vector.Span));
}

public sealed record EmbeddingRequest(string? Model, JsonElement Input, string? EncodingFormat, int? Dimensions, string? User);

public sealed record EmbeddingList(string Object, IReadOnlyList<EmbeddingData> Data, string Model, EmbeddingUsage Usage);

public sealed record EmbeddingData(string Object, int Index, object Embedding);

public sealed record EmbeddingUsage(long PromptTokens, long TotalTokens);
