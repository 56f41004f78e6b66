using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Gateway.MockLlm;

// POST /v1/embeddings in OpenAI's wire format: each text's vector is deterministic (seeded by a hash of the text),
// unit length, and as long as "dimensions" asks, at most the model's own EmbeddingDimensions (as text-embedding-3
// models shorten a vector, never lengthen it); usage counts o200k tokens.
// Directives (error, first-token-ms, hang) are read from the first input and the X-Mock header.
public static class Embeddings
{
    public static IEndpointRouteBuilder MapEmbeddings(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", Embed);
        return app;
    }

    public static async Task Embed(HttpContext http, IOptions<MockLlmOptions> options, MockLlmStats stats)
    {
        var settings = options.Value;
        if (Completions.Unauthorized(http, settings) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }
        var (valid, request) = await Completions.ReadAsync(http, stats);
        if (!valid)
        {
            await Completions.Error(http, 400, "The body is not valid JSON.", "invalid_request_error", null);
            return;
        }
        var model = request?["model"]?.GetValue<string>();
        if (model is null || !settings.EmbeddingModels.Contains(model))
        {
            await Completions.Error(http, 404, $"The model '{model}' does not exist.", "invalid_request_error", "model_not_found");
            return;
        }
        var inputs = request!["input"] switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => [text],
            JsonArray array when array.Count > 0 && array.All(i => i is JsonValue v && v.TryGetValue<string>(out _)) => array.Select(i => i!.GetValue<string>()).ToList(),
            _ => null,
        };
        if (inputs is null || inputs.Any(i => i.Length == 0))
        {
            await Completions.Error(http, 400, "'input' must be a non-empty string or an array of non-empty strings.", "invalid_request_error", null);
            return;
        }
        var dimensions = (int?)request["dimensions"]?.GetValue<long>() ?? settings.EmbeddingDimensions;
        if (dimensions < 1 || dimensions > settings.EmbeddingDimensions)
        {
            await Completions.Error(http, 400, $"'dimensions' must be between 1 and {settings.EmbeddingDimensions}.", "invalid_request_error", null, "dimensions");
            return;
        }
        var base64 = request["encoding_format"]?.GetValue<string>() == "base64";

        var directives = Directives.Read(settings, http.Request.Headers["X-Mock"], inputs[0]);
        try
        {
            await Task.Delay(directives.FirstTokenLatency, http.RequestAborted);
            if (directives.Hang)
            {
                await Task.Delay(Timeout.Infinite, http.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            stats.Abandoned();
            return;
        }
        if (directives.ErrorStatus is { } status)
        {
            await Completions.Error(http, status, $"The mock was asked to fail with {status}.", status >= 500 ? "server_error" : "invalid_request_error", "mock_error");
            return;
        }

        var tokens = inputs.Sum(i => Answers.O200k.CountTokens(i));
        await http.Response.WriteAsJsonAsync(new
        {
            @object = "list",
            data = inputs.Select((text, index) =>
            {
                var vector = Vector(text, dimensions);
                return new { @object = "embedding", index, embedding = base64 ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())) : (object)vector };
            }),
            model,
            usage = new { prompt_tokens = tokens, total_tokens = tokens },
        }, http.RequestAborted);
    }

    // The same text always gives the same unit vector: values from a SplitMix64 sequence seeded by the text's SHA-256.
    public static float[] Vector(string text, int dimensions)
    {
        var state = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            state += 0x9E3779B97F4A7C15;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            vector[i] = (float)((z >> 11) * (1.0 / (1UL << 53)) * 2 - 1);
        }
        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] /= norm;
        }
        return vector;
    }
}
