using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Chat.Tests;

// The OpenAI-compatible surface, driven by the official OpenAI .NET client with an sk_live_ key.
[Collection(nameof(ChatSystem))]
public sealed class CompletionsTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    private OpenAIClient Sdk(string apiKey) => new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(chat.System.Edge.Address, "v1"),
        RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0),
    });

    [Fact]
    public async Task The_OpenAI_SDK_completes_with_usage_and_the_charge_matches_it()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user)).GetChatClient("local-model");

        ChatCompletion completion = await client.CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Hello there [mock:tokens=6]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel);

        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        var credits = completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount;
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000);
        Assert.Equal(1000 - credits, after.Balance);
    }

    [Fact]
    public async Task Stop_sequences_reach_the_model_and_the_answer_ends_before_the_first_with_only_what_was_produced_charged()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user)).GetChatClient("local-model");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 50 };
        options.StopSequences.Add("STOP");
        options.StopSequences.Add("never");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("alpha beta STOP gamma delta [mock:echo]")], options, Cancel);

        Assert.Equal(("alpha beta ", ChatFinishReason.Stop), (completion.Content[0].Text, completion.FinishReason));
        var credits = completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount;
        Assert.Equal(1000 - credits, (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000)).Balance);
        Assert.Contains(chat.Model.Stats.Bodies, b => b.Contains("alpha beta STOP") && b.Contains("\"stop\":[\"STOP\",\"never\"]"));

        // An empty list of tools, text output and no tool choice ask for nothing this gateway lacks (as on /v1/responses).
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Add("x-api-key", await chat.ApiKeyAsync(user));
        using var plain = await http.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"local-model","max_tokens":2,"messages":[{"role":"user","content":"hi"}],"tools":[],"tool_choice":"none","response_format":{"type":"text"}}""",
            Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task A_completion_commits_its_usage_row_and_its_UsageRecorded_together_with_what_the_model_reported()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user)).GetChatClient("local-model");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Count [mock:tokens=7]")],
            new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel);

        // Written without EF's SaveChanges (services/Chat/Infrastructure/NewRows.cs): read back through EF's model.
        var reservationId = Guid.ParseExact(completion.Id["chatcmpl-".Length..], "N");
        await using var scope = chat.System[GatewayService.Chat].Provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Gateway.Chat.Infrastructure.ChatDbContext>();
        var usage = await db.Usage.AsNoTracking().SingleAsync(u => u.ReservationId == reservationId, Cancel);
        Assert.Equal(("completion", "local-model", completion.Usage.InputTokenCount, 7L, false),
            (usage.Kind, usage.Model, usage.InputTokens, usage.OutputTokens, usage.Interrupted));
        Assert.Equal(usage.InputTokens + usage.OutputTokens, usage.Credits);
        Assert.InRange(usage.RecordedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        var events = await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().AsNoTracking()
            .Where(m => m.CreatedAt >= usage.RecordedAt.AddSeconds(-5)).ToListAsync(Cancel);
        var recorded = Assert.Single(events.Select(m => m.Read().Message).OfType<Gateway.Contracts.UsageRecorded>(), e => e.UsageId == usage.Id);
        // Postgres keeps microseconds, the event's JSON the clock's ticks.
        Assert.InRange(recorded.RecordedAt - usage.RecordedAt, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal(new Gateway.Contracts.UsageRecorded(usage.Id, reservationId, user.UserId, usage.Credits, usage.InputTokens, usage.OutputTokens,
            "local-model", usage.RecordedAt, Kind: "completion"), recorded with { RecordedAt = usage.RecordedAt });
        // Published (the outbox was woken) and charged.
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == 1000 - usage.Credits);
    }

    [Fact]
    public async Task Outbox_rows_published_long_enough_ago_are_deleted_and_unpublished_ones_kept()
    {
        await using var scope = chat.System[GatewayService.Chat].Provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Gateway.Chat.Infrastructure.ChatDbContext>();
        var now = DateTimeOffset.UtcNow;
        var cutoff = now.AddDays(-1);
        // (created, published): old and published long ago; old but published only after a long outage; recent;
        // old and never published (a type nobody can read, so the publisher leaves it).
        (DateTimeOffset Created, DateTimeOffset? Published, string Type)[] rows =
        [
            (now.AddDays(-3), now.AddDays(-3), "Gateway.Contracts.UsageRecorded, Gateway.Contracts"),
            (now.AddDays(-3), now.AddHours(-1), "Gateway.Contracts.UsageRecorded, Gateway.Contracts"),
            (now.AddMinutes(-1), now.AddMinutes(-1), "Gateway.Contracts.UsageRecorded, Gateway.Contracts"),
            (now.AddDays(-2), null, "Gone.Message, Gone"),
        ];
        var ids = rows.Select(r => Guid.CreateVersion7(r.Created)).ToArray();
        try
        {
            for (var i = 0; i < rows.Length; i++)
            {
                await db.Database.ExecuteSqlRawAsync("""
                    INSERT INTO outbox_messages ("Id", "Type", "Payload", "CreatedAt", "PublishedAt", "Attempts")
                    VALUES ({0}, {1}, '{{}}', {2}, {3}, 0)
                    """, [ids[i], rows[i].Type, rows[i].Created, rows[i].Published!], Cancel);
            }

            await Gateway.ServiceDefaults.Outbox.OutboxCleaner<Gateway.Chat.Infrastructure.ChatDbContext>.DeletePublishedAsync(db, cutoff, Cancel);

            var left = await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().AsNoTracking()
                .Where(m => ids.Contains(m.Id)).Select(m => m.Id).ToListAsync(Cancel);
            Assert.Equal(ids[1..], ids.Where(left.Contains));
            Assert.False(await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().AnyAsync(m => m.PublishedAt < cutoff, Cancel));
        }
        finally
        {
            await db.Set<Gateway.ServiceDefaults.Outbox.OutboxMessage>().Where(m => ids.Contains(m.Id)).ExecuteDeleteAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_OpenAI_SDK_streams_the_answer_with_usage_in_the_last_chunk()
    {
        var user = await chat.UserAsync();
        var client = Sdk(await chat.ApiKeyAsync(user)).GetChatClient("local-model");

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream it [mock:tokens=9]")],
                           new ChatCompletionOptions { MaxOutputTokenCount = 50 }, Cancel))
        {
            updates++;
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage ??= update.Usage;
        }

        Assert.NotNull(usage);
        Assert.Equal(9, usage.OutputTokenCount);
        Assert.True(updates >= 9);
        Assert.Equal(9, new Gateway.Chat.Metering.TokenCounter().Count(text.ToString()));
        var models = await Sdk(await chat.ApiKeyAsync(user)).GetOpenAIModelClient().GetModelsAsync(Cancel);
        Assert.Contains(models.Value, m => m.Id == "local-model");
    }

    [Fact]
    public async Task Completion_errors_come_in_OpenAIs_shape()
    {
        var user = await chat.UserAsync();
        var key = await chat.ApiKeyAsync(user);
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        async Task<(HttpStatusCode, JsonElement)> Post(string body)
        {
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error"));
        }

        var (status, error) = await Post("""{"model":""");
        Assert.Equal((HttpStatusCode.BadRequest, "body"), (status, error.GetProperty("param").GetString()));
        Assert.StartsWith("The request body is not valid JSON: it breaks off", error.GetProperty("message").GetString());
        (status, error) = await Post("""{"model":"local-model"}""");
        Assert.Equal((HttpStatusCode.BadRequest, "messages"), (status, error.GetProperty("param").GetString()));
        (status, error) = await Post("""{"model":"nope","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found"), (status, error.GetProperty("code").GetString()));
        (status, error) = await Post("""{"model":"local-model","messages":[{"role":"user","content":"hi"}],"max_tokens":"x"}""");
        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens"), (status, error.GetProperty("param").GetString()));
        Assert.Equal("The field 'max_tokens' must be a whole number from -2147483648 to 2147483647, in digits (no decimal point or exponent).", error.GetProperty("message").GetString());
        (status, error) = await Post("""{"model":"local-model","messages":[{"role":"user","content":"hi"}],"max_tokens":99999999999}""");
        Assert.Equal((HttpStatusCode.BadRequest, "max_tokens"), (status, error.GetProperty("param").GetString()));
        Assert.Equal("The field 'max_tokens' must be a whole number from -2147483648 to 2147483647, in digits (no decimal point or exponent).", error.GetProperty("message").GetString());
        // A message that is not one, or content that is not text: which one and why, never a 500 (each was one).
        foreach (var (messages, detail) in new[]
        {
            ("""[null]""", "messages[0] must be a message: an object with a role and content."),
            ("""[{"role":"user","content":"x"},null]""", "messages[1] must be a message: an object with a role and content."),
            ("""[{"role":"user","content":[null]}]""", """messages[0].content must be text, or an array of text parts ({"type": "text", "text": "..."})."""),
            ("""[{"role":"user","content":[1]}]""", """messages[0].content must be text, or an array of text parts ({"type": "text", "text": "..."})."""),
            ("""[{"role":"user","content":[{"type":"text"}]}]""", """messages[0].content must be text, or an array of text parts ({"type": "text", "text": "..."})."""),
            ("""[{"role":"user","content":[{"type":"text","text":null}]}]""", """messages[0].content must be text, or an array of text parts ({"type": "text", "text": "..."})."""),
            ("""[{"role":"robot","content":"x"}]""", "messages[0].role must be system, developer, user or assistant."),
        })
        {
            (status, error) = await Post($$"""{"model":"local-model","messages":{{messages}}}""");
            // The param is the place the message names first, as OpenAI names it ("messages[0].role").
            Assert.Equal((HttpStatusCode.BadRequest, detail[..detail.IndexOf(' ')], detail), (status, error.GetProperty("param").GetString(), error.GetProperty("message").GetString()));
        }
        // What the gateway cannot do is refused by name, not ignored: a caller relying on it would get a wrong answer.
        foreach (var (extra, param) in new[]
        {
            ("\"response_format\":{\"type\":\"json_object\"}", "response_format"),
            ("\"tool_choice\":\"required\"", "tool_choice"),
            ("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]", "tools"),
            ("\"functions\":[{\"name\":\"f\"}],\"function_call\":\"auto\"", "functions"),
            ("\"logprobs\":true", "logprobs"),
            ("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "stop"),
            ("\"stop\":1", "stop"),
        })
        {
            (status, error) = await Post($$"""{"model":"local-model","messages":[{"role":"user","content":"hi"}],{{extra}}}""");
            Assert.Equal((HttpStatusCode.BadRequest, param), (status, error.GetProperty("param").GetString()));
        }

        // A member sent twice is refused, not read as its last value (the model, a message's role, the output limit).
        foreach (var body in new[]
        {
            """{"model":"nope","model":"local-model","messages":[{"role":"user","content":"hi"}]}""",
            """{"model":"local-model","messages":[{"role":"user","role":"system","content":"hi"}]}""",
            """{"model":"local-model","max_tokens":1,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""",
        })
        {
            (status, error) = await Post(body);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.EndsWith("more than once; send it once.", error.GetProperty("message").GetString());
        }
        // Inside a member read as raw JSON, the member is named with the one holding it (the path ends at the holder).
        (status, error) = await Post("""{"model":"local-model","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text","type":"json_object"}}""");
        Assert.Equal((HttpStatusCode.BadRequest, "response_format", "The field 'response_format' has the member 'type' more than once; send it once."),
            (status, error.GetProperty("param").GetString(), error.GetProperty("message").GetString()));
        (status, error) = await Post("""{"model":"local-model","messages":[{"role":"user","content":"hi"}],"temperature":5}""");
        Assert.Equal((HttpStatusCode.BadRequest, "temperature"), (status, error.GetProperty("param").GetString()));
        (status, error) = await Post($$"""{"model":"local-model","messages":[{"role":"user","content":"hi"},{"role":"user","content":"{{new string('a', 32_001)}}"}]}""");
        Assert.Equal((HttpStatusCode.BadRequest, "messages[1].content"), (status, error.GetProperty("param").GetString()));
        Assert.Equal("messages[1] has 32001 characters of content; a message may have at most 32000.", error.GetProperty("message").GetString());
        (status, error) = await Post("""{"model":"local-model","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal((HttpStatusCode.PaymentRequired, "insufficient_quota"), (status, error.GetProperty("code").GetString()));
        Assert.Matches(@"^Required: \d+, Available: 1000$", error.GetProperty("message").GetString());
        (status, error) = await Post("""{"model":"local-model","max_tokens":20,"messages":[{"role":"user","content":"hi [mock:error=503]"}]}""");
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (status, error.GetProperty("code").GetString()));
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));

        // Broken off after some output: what was produced is charged, and the error says how much.
        (status, error) = await Post("""{"model":"local-model","max_tokens":20,"messages":[{"role":"user","content":"hi [mock:fail-after=3] [mock:token-ms=50]"}]}""");
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (status, error.GetProperty("code").GetString()));
        var charged = long.Parse(Regex.Match(error.GetProperty("message").GetString()!, @"The 3 tokens produced before it failed were charged \((\d+) credits\)\.$").Groups[1].Value);
        Assert.Equal(1000 - charged, (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000)).Balance);
    }

    // The second organisation trial's 500s: a number its type cannot hold, which the reader took as infinity (and the
    // request's hash could not write), and half of a surrogate pair in text kept as JSON, read later. And what OpenAI
    // refuses and we took: a number sent as a string, a NUL in text. Each a 400 naming the field, on every /v1 route.
    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":"hi"}],"temperature":1e309}""", "temperature", "The field 'temperature' must be a number from -3.4E+38 to 3.4E+38.")]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":"hi"}],"top_p":3.5e38}""", "top_p", "The field 'top_p' must be a number from -3.4E+38 to 3.4E+38.")]
    [InlineData("/v1/responses", """{"model":"local-model","input":"hi","temperature":-1e308}""", "temperature", "The field 'temperature' must be a number from -3.4E+38 to 3.4E+38.")]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":"\ud800 alone"}]}""", "messages[0].content", "The field 'messages[0].content' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.")]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":[{"type":"text","text":"x\udc00y"}]}]}""", "messages[0].content[0].text", "The field 'messages[0].content[0].text' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.")]
    [InlineData("/v1/responses", """{"model":"local-model","input":"x\ud800"}""", "input", "The field 'input' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.")]
    [InlineData("/v1/embeddings", """{"model":"local-embedding","input":["ok","x\ud800"]}""", "input[1]", "The field 'input[1]' must be valid Unicode text: it has half of a surrogate pair (such as \\ud800) alone.")]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":"a\u0000b"}]}""", "messages[0].content", "The field 'messages[0].content' is not valid: Text cannot contain the NUL character (\\u0000).")]
    [InlineData("/v1/chat/completions", """{"model":"local-model","messages":[{"role":"user","content":"hi"}],"max_tokens":"10"}""", "max_tokens", "The field 'max_tokens' must be a whole number from -2147483648 to 2147483647, in digits (no decimal point or exponent).")]
    public async Task Numbers_out_of_range_and_text_that_is_not_text_are_a_400_naming_the_field_never_a_500(string path, string body, string param, string message)
    {
        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await chat.ApiKeyAsync(user));
        http.DefaultRequestHeaders.Add("Idempotency-Key", Guid.NewGuid().ToString()); // the request's hash failed on infinity

        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error");
        Assert.Equal((param, message), (error.GetProperty("param").GetString(), error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_stream_its_caller_left_is_replayed_by_its_idempotency_key_as_cut_off_not_as_finished()
    {
        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Add("x-api-key", await chat.ApiKeyAsync(user));
        HttpRequestMessage Request() => new(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"local-model","max_tokens":300,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"long [mock:tokens=200] [mock:token-ms=20]"}]}""",
                Encoding.UTF8, "application/json"),
            Headers = { { "Idempotency-Key", "left-midway" } },
        };

        // The caller reads a few chunks and goes away.
        using (var first = await http.SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            using var reader = new StreamReader(await first.Content.ReadAsStreamAsync(Cancel));
            for (var read = 0; read < 10;)
            {
                read += (await reader.ReadLineAsync(Cancel))?.StartsWith("data: ", StringComparison.Ordinal) == true ? 1 : 0;
            }
        }
        var charged = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000);

        using var replay = await http.SendAsync(Request(), Cancel);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        var chunks = (await replay.Content.ReadAsStringAsync(Cancel)).Split('\n')
            .Where(line => line.StartsWith("data: {", StringComparison.Ordinal)).Select(line => JsonDocument.Parse(line["data: ".Length..]).RootElement).ToList();
        var finish = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("finish_reason"))
            .Single(f => f.ValueKind == JsonValueKind.String).GetString();
        var usage = chunks.Last().GetProperty("usage");
        Assert.Equal("length", finish);
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 199);
        Assert.Equal(1000 - charged.Balance, usage.GetProperty("total_tokens").GetInt64());
    }

    [Fact]
    public async Task A_completion_retried_with_its_idempotency_key_is_answered_again_and_charged_once()
    {
        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Add("x-api-key", await chat.ApiKeyAsync(user));
        const string body = """{"model":"local-model","max_tokens":20,"messages":[{"role":"user","content":"once [mock:tokens=5]"}]}""";

        async Task<JsonElement> Post()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "retry-me");
            using var response = await http.SendAsync(request, Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        }

        var first = await Post();
        var second = await Post();

        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000);
        Assert.Single(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task The_OpenAI_SDK_with_a_bad_key_sees_401_and_why()
    {
        var client = Sdk("sk_live_" + new string('X', 43)).GetChatClient("local-model");

        var refused = await Assert.ThrowsAsync<ClientResultException>(() =>
            client.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel));

        Assert.Equal(401, refused.Status);
        Assert.Contains("The API key is not valid, or has been revoked or has expired.", refused.Message);
        Assert.Contains("invalid_api_key", refused.Message);

        // A key in another provider's format is read as a bearer token, and answered as the key it was meant to be.
        var foreign = await Assert.ThrowsAsync<ClientResultException>(() =>
            Sdk("sk-proj-not-ours").GetChatClient("local-model").CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel));
        Assert.Equal(401, foreign.Status);
        Assert.True(foreign.Message.Contains("The API key is not valid: keys start with 'sk_live_'", StringComparison.Ordinal), foreign.Message);
    }

    [Fact]
    public async Task The_edges_own_refusals_on_v1_come_in_OpenAIs_shape_and_elsewhere_as_problems()
    {
        using var anonymous = chat.System.CreateEdgeClient();
        using var missing = await anonymous.GetAsync("/v1/models", Cancel);
        var error = await OpenAiErrorAsync(missing, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.StartsWith("No API key was provided.", error.GetProperty("message").GetString());
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);

        var user = await chat.UserAsync();
        using var http = chat.System.CreateEdgeClient();
        http.DefaultRequestHeaders.Add("x-api-key", await chat.ApiKeyAsync(user));
        var tooLarge = new string('a', 3 * 1024 * 1024);
        using var huge = await http.PostAsync("/v1/chat/completions", new StringContent($$"""{"model":"local-model","messages":[{"role":"user","content":"{{tooLarge}}"}]}""", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal("request_too_large", (await OpenAiErrorAsync(huge, HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString());

        using var hugeChat = await http.PostAsync("/api/chat", new StringContent($$"""{"message":"{{tooLarge}}"}""", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, hugeChat.StatusCode);
        Assert.Equal("application/problem+json", hugeChat.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new Wallet(1000, 0, 1000), await ChatSystem.BalanceAsync(user));

        // Chat's own framework answers on /v1 (no such route, wrong method, a body of the wrong kind) too.
        using var noRoute = await http.PostAsync("/v1/audio/speech", new StringContent("{}", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal("not_found", (await OpenAiErrorAsync(noRoute, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using var wrongMethod = await http.GetAsync("/v1/chat/completions", Cancel);
        var notAllowed = await OpenAiErrorAsync(wrongMethod, HttpStatusCode.MethodNotAllowed);
        Assert.Equal(("invalid_request_error", "GET is not allowed on /v1/chat/completions; it takes POST."),
            (notAllowed.GetProperty("type").GetString(), notAllowed.GetProperty("message").GetString()));
        using var wrongKind = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"local-model","messages":"hi"}""", Encoding.UTF8, "application/json"), Cancel);
        var wrong = await OpenAiErrorAsync(wrongKind, HttpStatusCode.BadRequest);
        Assert.Equal(("messages", "The field 'messages' must be an array."), (wrong.GetProperty("param").GetString(), wrong.GetProperty("message").GetString()));
    }

    private static async Task<JsonElement> OpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error");
    }
}
