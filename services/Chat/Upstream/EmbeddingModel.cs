using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Chat.Upstream;

// An embedding model this gateway serves (Chat:Models:<id>:Kind = Embedding): charged per input token.
public sealed record EmbeddingModel(string Id, string UpstreamModel, decimal InputPrice, int MaxInputTokens, IEmbeddingGenerator<string, Embedding<float>> Generator)
{
    // Whole credits, rounded up, as for chat.
    public long Cost(long inputTokens) => (long)Math.Ceiling(inputTokens * InputPrice);
}

public abstract record EmbeddingResult;
public sealed record Embedded(GeneratedEmbeddings<Embedding<float>> Embeddings) : EmbeddingResult;
// Param: the request's field the provider refused, when it named one.
public sealed record EmbeddingFailed(int Status, string Detail, string? Param = null) : EmbeddingResult;
public sealed record EmbeddingCallerLeft : EmbeddingResult;

// One call to the provider's embeddings endpoint, ended like a chat call: the caller leaving, a timeout or a provider
// failure each become a result, never an exception.
public static class EmbeddingCall
{
    public static async Task<EmbeddingResult> RunAsync(EmbeddingModel model, IReadOnlyList<string> inputs, int? dimensions, TimeSpan timeout, CancellationToken caller)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(caller);
        cancel.CancelAfter(timeout);
        try
        {
            return new Embedded(await model.Generator.GenerateAsync(inputs, new EmbeddingGenerationOptions { Dimensions = dimensions }, cancel.Token));
        }
        catch (OperationCanceledException) when (caller.IsCancellationRequested)
        {
            return new EmbeddingCallerLeft();
        }
        catch (OperationCanceledException)
        {
            return new EmbeddingFailed(StatusCodes.Status504GatewayTimeout, $"The model did not answer within {timeout.TotalSeconds:0.#} s.");
        }
        // The request's own values go to the provider as they came (dimensions beyond the model's, an input too long for
        // it): its 400 is the caller's to correct, in its words. Anything else it answers is the provider's failure.
        catch (ClientResultException ex) when (ex.Status is StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity)
        {
            return new EmbeddingFailed(StatusCodes.Status400BadRequest, $"The model provider refused the request: {UpstreamCall.Describe(ex, out var param)}", param);
        }
        catch (ClientResultException ex)
        {
            return new EmbeddingFailed(StatusCodes.Status502BadGateway, $"The model provider failed: {UpstreamCall.Describe(ex)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or InvalidOperationException)
        {
            return new EmbeddingFailed(StatusCodes.Status502BadGateway, UpstreamCall.Unreadable(ex));
        }
    }
}
