// The OpenAI .NET client marks its Responses API as under evaluation (OPENAI001).
#pragma warning disable OPENAI001
using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Responses;

namespace Chat.Tests;

// POST /v1/responses, driven by the official OpenAI .NET client and by hand where the client cannot send a case.
[Collection(nameof(ChatSystem))]
public sealed class ResponsesTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    private ResponsesClient Sdk(string apiKey) => new OpenAIClient(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(chat.System.Edge.Address, "v1"),
        RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
    }).GetResponsesClient();

    private async Task<HttpClient> KeyClientAsync(TestUser user)
    {
        var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await chat.ApiKeyAsync(user));
        return http;
    }

    [Fact]
    public async Task The_OpenAI_SDK_creates_a_response_with_usage_and_the_charge_matches_it()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user));

        ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("local-model", [ResponseItem.CreateUserMessageItem("Hello there [mock:tokens=6]")])
        {
            Instructions = "Be brief.",
            MaxOutputTokenCount = 50,
            StoredOutputEnabled = false,
        }, Cancel);

        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(6, response.Usage.OutputTokenCount);
        Assert.Equal(6, new Gateway.Chat.Metering.TokenCounter().Count(response.GetOutputText()));
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        // The instructions reached the model as the system message, the input as the user's.
        var sent = JsonDocument.Parse(chat.Model.Stats.Bodies.Last(b => b.Contains("Hello there [mock:tokens=6]"))).RootElement.GetProperty("messages");
        Assert.Equal(("system", "Be brief.", "user"), (sent[0].GetProperty("role").GetString(), sent[0].GetProperty("content").GetString(), sent[1].GetProperty("role").GetString()));
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000);
        Assert.Equal(1000 - response.Usage.TotalTokenCount, after.Balance);
        var entry = Assert.Single(await ChatSystem.UsageEntriesAsync(user));
        Assert.Equal(-response.Usage.TotalTokenCount, entry.GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task The_OpenAI_SDK_streams_a_response_as_typed_events_ending_with_its_usage()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user));

        var text = new StringBuilder();
        var kinds = new List<string>();
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(
                           new CreateResponseOptions("local-model", [ResponseItem.CreateUserMessageItem("Stream it [mock:tokens=9]")]) { MaxOutputTokenCount = 50, StreamingEnabled = true }, Cancel))
        {
            kinds.Add(update.GetType().Name);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal(nameof(StreamingResponseCreatedUpdate), kinds[0]);
        Assert.Equal(nameof(StreamingResponseCompletedUpdate), kinds[^1]);
        Assert.True(kinds.Count(k => k == nameof(StreamingResponseOutputTextDeltaUpdate)) >= 9);
        Assert.NotNull(completed);
        Assert.Equal(9, completed.Usage.OutputTokenCount);
        Assert.Equal(text.ToString(), completed.GetOutputText());
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000);
        Assert.Equal(1000 - completed.Usage.TotalTokenCount, after.Balance);
    }

    [Fact]
    public async Task A_response_cut_at_its_output_limit_is_incomplete_and_says_why()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);

        using var response = await http.PostAsync("/v1/responses", Json("""{"model":"local-model","input":"Go on [mock:tokens=40]","max_output_tokens":16}"""), Cancel);

        var body = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("incomplete", body.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", body.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(16, body.GetProperty("usage").GetProperty("output_tokens").GetInt64());
        Assert.Equal(body.GetProperty("output_text").GetString(), body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_caller_who_leaves_a_streamed_response_is_charged_for_what_was_produced()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = Json("""{"model":"local-model","stream":true,"max_output_tokens":100,"input":"Slowly [mock:tokens=60] [mock:token-ms=100]"}"""),
        };

        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var deltas = 0;
            await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
            {
                Assert.Equal(e.Name, e.Data.GetProperty("type").GetString());
                if (e.Name == "response.output_text.delta" && ++deltas == 3)
                {
                    break;
                }
            }
        }

        var entry = Assert.Single(await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1));
        Assert.InRange(entry.GetProperty("outputTokens").GetInt64(), 3, 59);
        var charged = -entry.GetProperty("amount").GetInt64();
        Assert.Equal(new Wallet(1000 - charged, 0, 1000 - charged), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
    }

    [Fact]
    public async Task A_model_failing_midway_ends_the_stream_with_response_failed_and_what_it_produced_is_charged()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);

        using var response = await http.PostAsync("/v1/responses",
            Json("""{"model":"local-model","stream":true,"max_output_tokens":20,"input":"hi [mock:fail-after=3] [mock:token-ms=50]"}"""), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<ServerSentEvent>();
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
        {
            events.Add(e);
        }
        Assert.Equal(3, events.Count(e => e.Name == "response.output_text.delta"));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        var failed = events[^1];
        Assert.Equal("response.failed", failed.Name);
        var body = failed.Data.GetProperty("response");
        Assert.Equal(("failed", "server_error", 3L), (body.GetProperty("status").GetString(), body.GetProperty("error").GetProperty("code").GetString(),
            body.GetProperty("usage").GetProperty("output_tokens").GetInt64()));
        var entry = Assert.Single(await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1));
        Assert.Equal(-body.GetProperty("usage").GetProperty("total_tokens").GetInt64(), entry.GetProperty("amount").GetInt64());
    }

    [Fact]
    public async Task A_response_retried_with_its_idempotency_key_is_answered_again_and_charged_once()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);

        async Task<(string Body, bool Replayed)> Post(bool stream, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
            {
                Content = Json($$"""{"model":"local-model","stream":{{(stream ? "true" : "false")}},"max_output_tokens":20,"input":"once [mock:tokens=5]"}"""),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await http.SendAsync(request, Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadAsStringAsync(Cancel), response.Headers.Contains("Idempotent-Replayed"));
        }
        // A stream's last event is the whole response.
        static JsonElement Completed(string stream) =>
            JsonDocument.Parse(stream.Split("\n").Last(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]).RootElement;

        var first = await Post(stream: false, "respond-once");
        var second = await Post(stream: false, "respond-once");
        var firstStream = await Post(stream: true, "stream-once");
        var secondStream = await Post(stream: true, "stream-once");

        Assert.Equal((false, true), (first.Replayed, second.Replayed));
        Assert.Equal(first.Body, second.Body);
        Assert.Equal((false, true), (firstStream.Replayed, secondStream.Replayed));
        Assert.Equal("response.completed", Completed(secondStream.Body).GetProperty("type").GetString());
        Assert.Equal(Completed(firstStream.Body).GetProperty("response").GetRawText(), Completed(secondStream.Body).GetProperty("response").GetRawText());
        Assert.Equal(2, (await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count >= 2)).Count);
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0);
        Assert.Equal(2, (await ChatSystem.UsageEntriesAsync(user)).Count);
    }

    [Fact]
    public async Task Response_errors_come_in_OpenAIs_shape_and_name_the_parameter()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);

        async Task<(HttpStatusCode Status, string? Param, string? Code)> Post(string body)
        {
            using var response = await http.PostAsync("/v1/responses", Json(body), Cancel);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error");
            return (response.StatusCode, error.GetProperty("param").GetString(), error.GetProperty("code").GetString());
        }

        Assert.Equal((HttpStatusCode.BadRequest, "input", null), await Post("""{"model":"local-model"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input", null), await Post("""{"model":"local-model","input":[]}"""));
        Assert.Equal((HttpStatusCode.NotFound, "model", "model_not_found"), await Post("""{"model":"nope","input":"hi"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "model", null), await Post("""{"model":"local-embedding","input":"hi"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "tools", null),
            await Post("""{"model":"local-model","input":"hi","tools":[{"type":"function","name":"f","parameters":{}}]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "previous_response_id", null), await Post("""{"model":"local-model","input":"hi","previous_response_id":"resp_1"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "store", null), await Post("""{"model":"local-model","input":"hi","store":true}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "text.format", null), await Post("""{"model":"local-model","input":"hi","text":{"format":{"type":"json_object"}}}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input[1]", null),
            await Post("""{"model":"local-model","input":[{"role":"user","content":"hi"},{"type":"function_call_output","call_id":"c","output":"x"}]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input[0].content[1]", null),
            await Post("""{"model":"local-model","input":[{"role":"user","content":[{"type":"input_text","text":"hi"},{"type":"input_image","image_url":"http://x"}]}]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "input[0].role", null), await Post("""{"model":"local-model","input":[{"role":"tool","content":"hi"}]}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "max_output_tokens", null), await Post("""{"model":"local-model","input":"hi","max_output_tokens":"x"}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "max_output_tokens", null), await Post("""{"model":"local-model","input":"hi","max_output_tokens":5000}"""));
        Assert.Equal((HttpStatusCode.BadRequest, "top_p", null), await Post("""{"model":"local-model","input":"hi","top_p":3}"""));
        Assert.Equal((HttpStatusCode.PaymentRequired, null, "insufficient_quota"), await Post("""{"model":"local-model","input":"hi","max_output_tokens":1024}"""));
        Assert.Equal((HttpStatusCode.BadGateway, null, "upstream_error"), await Post("""{"model":"local-model","input":"hi [mock:error=503]","max_output_tokens":20}"""));
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
    }

    [Fact]
    public async Task A_conversation_of_input_items_reaches_the_model_as_chat_messages()
    {
        var user = await chat.UserAsync();
        using var http = await KeyClientAsync(user);

        using var response = await http.PostAsync("/v1/responses", Json("""
            {"model":"local-model","instructions":"Answer in one word.","max_output_tokens":20,"input":[
              {"type":"message","role":"developer","content":"Stay polite."},
              {"role":"user","content":[{"type":"input_text","text":"What is 2+2?"}]},
              {"role":"assistant","content":[{"type":"output_text","text":"Four."}]},
              {"role":"user","content":"And 3+3? [mock:echo]"}]}
            """), Cancel);

        var body = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("And 3+3?", body.GetProperty("output_text").GetString());
        var sent = JsonDocument.Parse(chat.Model.Stats.Bodies.Last(b => b.Contains("And 3+3?"))).RootElement.GetProperty("messages");
        Assert.Equal(["system:Answer in one word.", "system:Stay polite.", "user:What is 2+2?", "assistant:Four.", "user:And 3+3? [mock:echo]"],
            sent.EnumerateArray().Select(m => $"{m.GetProperty("role").GetString()}:{m.GetProperty("content").GetString()}"));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
