using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Gateway.MockLlm;
using OpenAI;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Chat.Tests;

// POST /v1/embeddings and GET /v1/models/{id}, driven by the official OpenAI .NET client with an sk_live_ key.
// local-embedding costs 0.1 credit per input token (appsettings.json), rounded up per request.
[Collection(nameof(ChatSystem))]
public sealed class EmbeddingsTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    private OpenAIClient Sdk(string apiKey) => new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(chat.System.Edge.Address, "v1"),
        RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
    });

    [Fact]
    public async Task The_OpenAI_SDK_embeds_texts_as_the_models_deterministic_vectors_and_is_charged_per_input_token()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user)).GetEmbeddingClient("local-embedding");
        string[] texts = ["The quick brown fox jumps over the lazy dog.", "Gateway meters every token it sends upstream, and this sentence is a little longer than the first one."];

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(texts, new EmbeddingGenerationOptions { Dimensions = 64 }, Cancel);

        Assert.Equal(2, embeddings.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            var vector = embeddings[i].ToFloats().ToArray();
            Assert.Equal(Embeddings.Vector(texts[i], 64), vector);
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
        }
        var tokens = texts.Sum(t => new Gateway.Chat.Metering.TokenCounter().Count(t));
        Assert.Equal(tokens, embeddings.Usage.InputTokenCount);
        var credits = (long)Math.Ceiling(tokens * 0.1m);
        var entry = Assert.Single(await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1));
        Assert.Equal((-credits, tokens, 0L), (entry.GetProperty("amount").GetInt64(), entry.GetProperty("inputTokens").GetInt64(), entry.GetProperty("outputTokens").GetInt64()));
        Assert.StartsWith("Usage: embedding (", entry.GetProperty("reason").GetString());
        Assert.Equal(new Wallet(1000 - credits, 0, 1000 - credits), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000));
    }

    [Fact]
    public async Task Floats_and_base64_are_the_same_vector_in_OpenAIs_response_shape()
    {
        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await chat.ApiKeyAsync(user));

        async Task<JsonElement> Post(string format)
        {
            using var response = await http.PostAsync("/v1/embeddings", Json($$"""{"model":"local-embedding","input":"one text","encoding_format":"{{format}}"}"""), Cancel);
            return await response.ShouldBe(HttpStatusCode.OK);
        }

        var floats = await Post("float");
        var base64 = await Post("base64");

        Assert.Equal(("list", "local-embedding", "embedding", 0), (floats.GetProperty("object").GetString(), floats.GetProperty("model").GetString(),
            floats.GetProperty("data")[0].GetProperty("object").GetString(), floats.GetProperty("data")[0].GetProperty("index").GetInt32()));
        var vector = floats.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(1536, vector.Length);
        Assert.Equal(vector, MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(base64.GetProperty("data")[0].GetProperty("embedding").GetString()!)).ToArray());
        var usage = floats.GetProperty("usage");
        Assert.Equal((2, 2), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32()));
    }

    [Fact]
    public async Task Embedding_errors_come_in_OpenAIs_shape_and_charge_nothing()
    {
        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await chat.ApiKeyAsync(user));

        async Task<(HttpStatusCode Status, string? Param, string? Code)> Post(string path, string body)
        {
            using var response = await http.PostAsync(path, Json(body), Cancel);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error");
            return (response.StatusCode, error.GetProperty("param").GetString(), error.GetProperty("code").GetString());
        }

        Assert.Equal((HttpStatusCode.BadRequest, "input", null), await Post("/v1/embeddings", """{"model":"local-embedding"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":[[1,2,3]]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input[1]", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":["a",""]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "model", null), await Post("/v1/embeddings", """{"model":"local-model","input":"a"}"""));
        Assert.Equal((HttpStatusCode.NotFound, "model", "model_not_found"), await Post("/v1/embeddings", """{"model":"nope","input":"a"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "encoding_format", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":"a","encoding_format":"int8"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "dimensions", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":"a","dimensions":0}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "dimensions", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":"a","dimensions":"x"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "model", null), await Post("/v1/chat/completions", """{"model":"local-embedding","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal((HttpStatusCode.BadGateway, null, "upstream_error"), await Post("/v1/embeddings", """{"model":"local-embedding","input":"fail [mock:error=500]"}"""));
        // The provider's refusal of the request's own values is the caller's to correct: a 400 in its words, not a 502.
        // The field the provider names is named to the caller (MockLlm, as text-embedding-3 models, cannot lengthen its 1,536).
        Assert.Equal((HttpStatusCode.BadRequest, "dimensions", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":"a","dimensions":100000}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "dimensions", null), await Post("/v1/embeddings", """{"model":"local-embedding","input":"a","dimensions":2000}"""));
        Assert.Equal((HttpStatusCode.PaymentRequired, null, "insufficient_quota"),
            await Post("/v1/embeddings", $$"""{"model":"local-embedding","input":["{{string.Join(' ', Enumerable.Repeat("word", 5000))}}","{{string.Join(' ', Enumerable.Repeat("word", 5001))}}"]}"""));
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
    }

    [Fact]
    public async Task The_OpenAI_SDK_retrieves_a_model_by_id_and_an_unknown_one_is_404_in_OpenAIs_shape()
    {
        var user = await chat.UserAsync();
        var models = Sdk(await chat.ApiKeyAsync(user)).GetOpenAIModelClient();

        OpenAIModel model = await models.GetModelAsync("local-model", Cancel);
        OpenAIModel embedding = await models.GetModelAsync("local-embedding", Cancel);
        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("no-such-model", Cancel));

        Assert.Equal(("local-model", "local-embedding"), (model.Id, embedding.Id));
        Assert.Equal(404, unknown.Status);
        var error = JsonDocument.Parse(unknown.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal(("model_not_found", "model"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Contains("no-such-model", error.GetProperty("message").GetString());
        // A long id is not echoed back whole.
        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync(new string('m', 5000), Cancel));
        var longError = JsonDocument.Parse(tooLong.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.True(longError.Length < 200, longError);
        Assert.Contains((await models.GetModelsAsync(Cancel)).Value, m => m.Id == "local-embedding");
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
