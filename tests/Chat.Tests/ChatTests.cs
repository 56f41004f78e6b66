using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

[CollectionDefinition(nameof(ChatSystem))]
public sealed class ChatCollection : ICollectionFixture<ChatSystem>;

// POST /api/chat through the edge, metered against Billing, with MockLlm as the model.
[Collection(nameof(ChatSystem))]
public sealed class ChatTests(ChatSystem chat)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;

    [Fact]
    public async Task A_streamed_answer_arrives_as_token_events_and_done_reports_the_usage_and_the_balance_billing_then_shows()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Tell me about the sea", maxTokens = 100 }), HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<ServerSentEvent>();
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
        {
            events.Add(e);
        }

        var tokens = events.Where(e => e.Name == "token").Select(e => e.Data.GetProperty("text").GetString()).ToList();
        Assert.Equal(24, tokens.Count); // MockLlm's default answer, one token an event
        var done = Assert.Single(events, e => e.Name == "done").Data;
        Assert.Equal("done", events[^1].Name);
        var usage = done.GetProperty("usage");
        Assert.Equal(24, usage.GetProperty("outputTokens").GetInt64());
        var credits = usage.GetProperty("credits").GetInt64();
        Assert.Equal(usage.GetProperty("inputTokens").GetInt64() + 24, credits);
        Assert.Equal(ChatSystem.SignUpGrant - credits, done.GetProperty("balance").GetInt64());

        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < ChatSystem.SignUpGrant);
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant - credits, 0, ChatSystem.SignUpGrant - credits), after);

        var sessionId = done.GetProperty("sessionId").GetGuid();
        var messages = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{sessionId}/messages", Cancel);
        Assert.Equal(["user", "assistant"], messages.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(string.Concat(tokens), messages.GetProperty("data")[1].GetProperty("content").GetString());
    }

    // The third trial deleted a session while one of its turns ran: a 500, charged all the same (a stream was cut: below).
    [Fact]
    public async Task A_session_deleted_while_its_json_turn_runs_is_a_409_that_says_what_was_charged()
    {
        var user = await chat.UserAsync();
        using var first = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Hello [mock:tokens=2]", maxTokens = 10 }, json: true), Cancel);
        var sessionId = (await first.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("sessionId").GetGuid();
        var spent = ChatSystem.SignUpGrant - (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < ChatSystem.SignUpGrant)).Balance;

        var turn = user.Client.SendAsync(ChatSystem.ChatRequest(new { sessionId, message = "Slow [mock:tokens=20] [mock:token-ms=100]", maxTokens = 40 }, json: true), Cancel);
        await Task.Delay(700, Cancel);
        using (var delete = await user.Client.DeleteAsync($"/api/chat/sessions/{sessionId}", Cancel))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using var response = await turn;

        var detail = (await response.ShouldBeProblem(HttpStatusCode.Conflict)).GetProperty("detail").GetString()!;
        var charged = long.Parse(Regex.Match(detail, @"^The session was deleted while this turn ran, so its answer was not kept; what the model produced was charged \((\d+) credits\)\.$").Groups[1].Value);
        Assert.True(charged > 0, detail);
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == ChatSystem.SignUpGrant - spent - charged);
        Assert.Equal(ChatSystem.SignUpGrant - spent - charged, after.Balance);
    }

    // A chat product renames its conversations (the third trial found no way: PATCH was a 405).
    [Fact]
    public async Task A_session_is_renamed_by_its_owner_only_and_keeps_its_place_in_the_list()
    {
        var user = await chat.UserAsync();
        using var created = await user.Client.PostAsJsonAsync("/api/chat/sessions", new { title = "Draft" }, Cancel);
        var session = await created.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var id = session.GetProperty("id").GetGuid();

        using var renamed = await user.Client.PatchAsJsonAsync($"/api/chat/sessions/{id}", new { title = "  Trip to Lisbon " }, Cancel);
        var read = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{id}", Cancel);

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Trip to Lisbon", read.GetProperty("title").GetString());
        Assert.Equal(session.GetProperty("updatedAt").GetString(), read.GetProperty("updatedAt").GetString());
        using var blank = await user.Client.PatchAsJsonAsync($"/api/chat/sessions/{id}", new { title = "\u200b " }, Cancel);
        await blank.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "title");
        using var misspelt = await user.Client.PatchAsJsonAsync($"/api/chat/sessions/{id}", new { tilte = "x" }, Cancel);
        await misspelt.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "tilte");
        var other = await chat.UserAsync();
        using var foreign = await other.Client.PatchAsJsonAsync($"/api/chat/sessions/{id}", new { title = "Mine now" }, Cancel);
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task A_json_answer_costs_exactly_the_usage_the_model_reported()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Short one [mock:tokens=7]", maxTokens = 100 }, json: true), Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);

        var usage = answer.GetProperty("usage");
        Assert.Equal(7, usage.GetProperty("outputTokens").GetInt64());
        // 3 + (3 + "user" + the message) as OpenAI counts a prompt: the mock reports the same.
        Assert.Equal(3 + 3 + 1 + new Gateway.Chat.Metering.TokenCounter().Count("Short one [mock:tokens=7]"), usage.GetProperty("inputTokens").GetInt64());
        var credits = usage.GetProperty("credits").GetInt64();
        Assert.False(string.IsNullOrWhiteSpace(answer.GetProperty("content").GetString()));
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < ChatSystem.SignUpGrant);
        Assert.Equal(ChatSystem.SignUpGrant - credits, after.Balance);
        var entry = Assert.Single(await ChatSystem.UsageEntriesAsync(user));
        Assert.Equal(-credits, entry.GetProperty("amount").GetInt64());
        Assert.Equal(7, entry.GetProperty("outputTokens").GetInt64());
        Assert.Equal($"Usage: chat ({entry.GetProperty("model").GetString()})", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task The_sessions_earlier_messages_go_to_the_model_as_context_and_read_back_in_pages()
    {
        var user = await chat.UserAsync();
        using var first = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "My name is Ada [mock:tokens=3]", maxTokens = 100 }, json: true), Cancel);
        var sessionId = (await first.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("sessionId").GetGuid();

        using var second = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "What is my name? [mock:tokens=3]", sessionId, maxTokens = 100 }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var sent = JsonDocument.Parse(chat.Model.Stats.Bodies.Last(b => b.Contains("What is my name?"))).RootElement.GetProperty("messages");
        Assert.Equal(["user", "assistant", "user"], sent.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("My name is Ada [mock:tokens=3]", sent[0].GetProperty("content").GetString());

        var page = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{sessionId}/messages?limit=2&offset=2", Cancel);
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(["user", "assistant"], page.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("What is my name? [mock:tokens=3]", page.GetProperty("data")[0].GetProperty("content").GetString());
        var sessions = await user.Client.GetFromJsonAsync<JsonElement>("/api/chat/sessions", Cancel);
        Assert.Equal(sessionId, Assert.Single(sessions.GetProperty("data").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Seed_000s_session_id_continues_the_session_as_sessionId_does_and_both_for_different_sessions_are_a_400()
    {
        var user = await chat.UserAsync();
        using var first = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Remember seven [mock:tokens=3]", maxTokens = 100 }, json: true), Cancel);
        var sessionId = (await first.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("sessionId").GetGuid();

        using var second = await user.Client.SendAsync(
            ChatSystem.ChatRequest(new { message = "What number? [mock:tokens=3]", session_id = sessionId, maxTokens = 100 }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(sessionId, (await second.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("sessionId").GetGuid());
        var sessions = await user.Client.GetFromJsonAsync<JsonElement>("/api/chat/sessions", Cancel);
        Assert.Single(sessions.GetProperty("data").EnumerateArray());

        // Both names, for different sessions: which one to continue is not guessed.
        using var both = await user.Client.SendAsync(
            ChatSystem.ChatRequest(new { message = "Which? [mock:tokens=3]", sessionId, session_id = Guid.NewGuid(), maxTokens = 100 }, json: true), Cancel);
        Assert.Equal("The field 'sessionId' and its other names (session_id, conversationId) name different sessions; send one.",
            await both.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "sessionId"));
    }

    [Fact]
    public async Task A_message_with_a_nul_character_is_a_400_naming_the_field_and_nothing_is_reserved()
    {
        var user = await chat.UserAsync();
        var before = chat.Model.Stats.Requests;

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "a\0b", maxTokens = 10 }), Cancel);

        var detail = await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "message");
        Assert.Contains("NUL", detail);
        Assert.Equal(before, chat.Model.Stats.Requests);
        Assert.Equal(new Wallet(1000, 0, 1000), await ChatSystem.BalanceAsync(user));
    }

    // The sign-up grant travels through Identity's outbox and the broker; a first request sent the moment the account exists
    // was refused "Available: 0" when it got to Billing first. Billing waits a moment for a wallet not made yet.
    [Fact]
    public async Task A_first_request_sent_the_moment_the_account_exists_is_served_from_the_sign_up_grant()
    {
        var user = await chat.System.RegisterUserAsync();

        using var response = await user.Client.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "local-model",
            max_tokens = 20,
            messages = new[] { new { role = "user", content = "Hello [mock:tokens=3]" } },
        }, Cancel);

        var charged = (await response.ShouldBe(HttpStatusCode.OK)).GetProperty("usage").GetProperty("total_tokens").GetInt64();
        var left = ChatSystem.SignUpGrant - charged;
        Assert.Equal(new Wallet(left, 0, left), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == left));
    }

    // A removed member's conversations, generations and kept answers were left in Chat with no route to read or delete
    // them (the third trial): they go with the account; what was charged stays, in usage rows and Billing's ledger.
    [Fact]
    public async Task A_deleted_accounts_sessions_messages_generations_and_kept_answers_are_deleted_and_its_charges_kept()
    {
        var owner = await chat.UserAsync();
        var member = await chat.System.InviteAsync(owner, "member");
        using (var turn = await member.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Remember me [mock:tokens=3]" }, json: true, idempotencyKey: "once"), Cancel))
        {
            await turn.ShouldBe(HttpStatusCode.OK);
        }
        using (var generation = new HttpRequestMessage(HttpMethod.Post, "/api/generations") { Content = JsonContent.Create(new { prompt = "a page", format = "html_css" }) })
        {
            generation.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
            using var created = await member.Client.SendAsync(generation, Cancel);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await using var scope = chat.System[GatewayService.Chat].Provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Gateway.Chat.Infrastructure.ChatDbContext>();
        async Task<(int, int, int, int, int)> Kept() => (
            await db.Sessions.CountAsync(s => s.UserId == member.UserId, Cancel), await db.Messages.CountAsync(m => m.UserId == member.UserId, Cancel),
            await db.Generations.CountAsync(g => g.UserId == member.UserId, Cancel), await db.IdempotentRequests.CountAsync(r => r.UserId == member.UserId, Cancel),
            await db.Usage.CountAsync(u => u.UserId == member.UserId, Cancel));
        Assert.Equal((1, 2, 1, 1, 2), await Kept());

        using var removed = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Cancel);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);

        // UserDeleted reaches Chat through Identity's outbox and the broker.
        Assert.Equal((0, 0, 0, 0, 2), await Eventually.UntilAsync(Kept, kept => kept.Item1 + kept.Item3 + kept.Item4 == 0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Requests_the_framework_cannot_bind_are_problems_in_our_words_naming_the_field()
    {
        var user = await chat.UserAsync();

        using var badLimit = await user.Client.GetAsync("/api/chat/sessions?limit=abc", Cancel);
        Assert.Equal("'limit' must be a whole number from 1 to 100, in digits (no decimal point or exponent); 'abc' is not.", await badLimit.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "limit"));
        using var twice = await user.Client.GetAsync("/api/chat/sessions?limit=1&limit=2", Cancel);
        Assert.Equal("'limit' was sent 2 times; send it once.", await twice.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "limit"));
        using var badOffset = await user.Client.GetAsync("/api/chat/sessions?offset=1.5", Cancel);
        Assert.Equal("'offset' must be a whole number from 0 to 2147483647, in digits (no decimal point or exponent); '1.5' is not.", await badOffset.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "offset"));

        // A whole number too large for its field is refused like one of the wrong kind: the range says why.
        using var tooLarge = await user.Client.PostAsync("/api/chat", new StringContent("""{"message":"hi","maxTokens":99999999999}""", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal("The field 'maxTokens' must be a whole number from -2147483648 to 2147483647, in digits (no decimal point or exponent).",
            await tooLarge.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "maxTokens"));

        using var noBody = await user.Client.PostAsync("/api/chat", new StringContent("", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal("The request needs a JSON body.", await noBody.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "body"));

        // Cut off after a colon: the parser's own words were passed on.
        using var cutOff = await user.Client.PostAsync("/api/chat", new StringContent("""{"message":""", Encoding.UTF8, "application/json"), Cancel);
        Assert.Equal("The request body is not valid JSON: it breaks off or has something out of place at line 1, byte 12 (in 'message').",
            await cutOff.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "body"));

        // Nested past the reader's limit: said so, not called broken.
        using var deep = await user.Client.PostAsync("/api/chat", new StringContent($$"""{"message":"hi","extra":{{new string('[', 70)}}{{new string(']', 70)}}}""", Encoding.UTF8, "application/json"), Cancel);
        Assert.StartsWith("The request body nests arrays and objects more than 64 levels deep at line 1",
            await deep.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "body"));

        using var text = await user.Client.PostAsync("/api/chat", new StringContent("hello", Encoding.UTF8, "text/plain"), Cancel);
        Assert.Equal("The body must be JSON (Content-Type: application/json), not 'text/plain; charset=utf-8'.",
            await text.ShouldBeProblemAbout(HttpStatusCode.UnsupportedMediaType, "Content-Type"));

        using var wrongMethod = await user.Client.DeleteAsync("/api/chat", Cancel);
        var notAllowed = await wrongMethod.ShouldBeProblem(HttpStatusCode.MethodNotAllowed);
        Assert.Equal("DELETE is not allowed on /api/chat; it takes POST.", notAllowed.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_model_answer_with_a_nul_character_is_saved_and_charged()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Say it [mock:nul]", maxTokens = 10 }, json: true), Cancel);

        var answer = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal("Before\0after", answer.GetProperty("content").GetString());
        var credits = answer.GetProperty("usage").GetProperty("credits").GetInt64();
        var messages = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{answer.GetProperty("sessionId").GetGuid()}/messages", Cancel);
        Assert.Equal("Before\uFFFDafter", messages.GetProperty("data")[1].GetProperty("content").GetString());
        Assert.Equal(1000 - credits, (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000)).Balance);
    }

    [Fact]
    public async Task A_session_deleted_while_its_answer_streams_stays_deleted_and_the_answer_is_still_charged_once()
    {
        var user = await chat.UserAsync();
        using var first = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Start [mock:tokens=2]", maxTokens = 20 }, json: true), Cancel);
        var sessionId = (await first.ShouldBe(HttpStatusCode.OK)).GetProperty("sessionId").GetGuid();
        var charged = (await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 1)).Sum(e => e.GetProperty("amount").GetInt64());

        using var response = await user.Client.SendAsync(
            ChatSystem.ChatRequest(new { message = "Go on slowly [mock:tokens=6] [mock:token-ms=200]", sessionId, maxTokens = 20 }), HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)).GetAsyncEnumerator(Cancel);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/chat/sessions/{sessionId}", Cancel)).StatusCode);
        // The turn could not be saved with its session: the stream says so and what it cost, then ends (it was cut).
        var rest = new List<ServerSentEvent>();
        while (await events.MoveNextAsync())
        {
            rest.Add(events.Current);
        }
        var error = Assert.Single(rest, e => e.Name == "error").Data;
        Assert.Equal(409, error.GetProperty("status").GetInt32());
        Assert.StartsWith("The session was deleted while this turn ran", error.GetProperty("detail").GetString());
        Assert.Equal("done", rest[^1].Name);

        var usage = await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), e => e.Count == 2);
        Assert.Equal(6, usage[0].GetProperty("outputTokens").GetInt64());
        charged += usage[0].GetProperty("amount").GetInt64();
        Assert.Equal(new Wallet(1000 + charged, 0, 1000 + charged), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == 1000 + charged));
        Assert.Equal(HttpStatusCode.NotFound, (await user.Client.GetAsync($"/api/chat/sessions/{sessionId}/messages", Cancel)).StatusCode);
    }

    [Fact]
    public async Task The_balance_an_answer_reports_is_not_lowered_by_another_requests_open_hold()
    {
        var user = await chat.UserAsync();
        // A slow chat whose hold stays open while the second one is answered.
        var slow = user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Slowly [mock:tokens=4] [mock:token-ms=500]", maxTokens = 50 }, json: true), Cancel);
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held > 0);

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Quick [mock:tokens=3]", maxTokens = 50 }, json: true), Cancel);

        var answer = await response.ShouldBe(HttpStatusCode.OK);
        Assert.Equal(1000 - answer.GetProperty("usage").GetProperty("credits").GetInt64(), answer.GetProperty("balance").GetInt64());
        using var slowResponse = await slow;
        await slowResponse.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_user_short_of_credits_for_the_limit_they_asked_for_gets_402_saying_what_was_required_and_nothing_reaches_the_model()
    {
        var user = await chat.UserAsync();
        var before = chat.Model.Stats.Requests;

        // The reservation is the prompt plus the 1024 output tokens asked for, more than the 1000 granted.
        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "hello", maxTokens = 1024 }), Cancel);

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Matches(@"^Required: \d+, Available: 1000$", problem.GetProperty("detail").GetString());
        Assert.EndsWith("rfc9110#section-15.5.3", problem.GetProperty("type").GetString());
        Assert.Equal(before, chat.Model.Stats.Requests);
        Assert.Equal(new Wallet(1000, 0, 1000), await ChatSystem.BalanceAsync(user));
    }

    [Fact]
    public async Task Without_a_limit_the_answer_is_capped_to_what_the_user_can_afford_and_with_nothing_left_the_next_chat_is_402()
    {
        var user = await chat.UserAsync();

        // No maxTokens: the model's limit (1024) plus the prompt is more than the 1000 granted, so the answer
        // is capped to what is left after the prompt, and the model is told so.
        using var capped = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Go on [mock:tokens=2000]" }, json: true), Cancel);
        Assert.Equal(HttpStatusCode.OK, capped.StatusCode);
        var cappedAnswer = await capped.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Equal("length", cappedAnswer.GetProperty("finishReason").GetString());
        var usage = cappedAnswer.GetProperty("usage");
        var output = 1000 - usage.GetProperty("inputTokens").GetInt64();
        Assert.Equal(output, usage.GetProperty("outputTokens").GetInt64());
        Assert.Equal(1000, usage.GetProperty("credits").GetInt64());
        Assert.Matches($"\"max_(completion_)?tokens\":{output}\\b", chat.Model.Stats.Bodies[^1]);
        Assert.Equal(new Wallet(0, 0, 0), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == 0));

        var before = chat.Model.Stats.Requests;
        using var refused = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "hello" }), Cancel);
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        // Required is what the least answer would take (the prompt and 16 tokens), not the model's whole limit of 1024.
        var required = Regex.Match(problem.GetProperty("detail").GetString()!, @"^Required: (\d+), Available: 0$");
        Assert.True(required.Success, problem.ToString());
        Assert.InRange(long.Parse(required.Groups[1].Value), 17, 100);
        Assert.Equal(before, chat.Model.Stats.Requests);
    }

    [Fact]
    public async Task A_client_that_disconnects_after_five_tokens_is_billed_five_output_tokens_and_the_model_call_is_cancelled()
    {
        var user = await chat.UserAsync();
        var cancelledBefore = chat.Model.Stats.Cancelled;

        var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Keep talking [mock:hang-after=5]", maxTokens = 100 }), HttpCompletionOption.ResponseHeadersRead, Cancel);
        var stream = await response.Content.ReadAsStreamAsync(Cancel);
        var received = 0;
        await foreach (var e in ServerSentEvents.ReadAsync(stream))
        {
            if (e.Name == "token" && ++received == 5)
            {
                break;
            }
        }
        response.Dispose(); // the client goes away mid-answer

        var entry = (await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), u => u.Count == 1)).Single();
        Assert.Equal(5, entry.GetProperty("outputTokens").GetInt64());
        var credits = entry.GetProperty("inputTokens").GetInt64() + 5;
        Assert.Equal(-credits, entry.GetProperty("amount").GetInt64());
        Assert.Equal(new Wallet(1000 - credits, 0, 1000 - credits), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
        Assert.True(await Eventually.UntilAsync(() => Task.FromResult(chat.Model.Stats.Cancelled), c => c > cancelledBefore) > cancelledBefore);
    }

    [Theory]
    [InlineData("[mock:error=500]", HttpStatusCode.BadGateway, "500")]
    [InlineData("[mock:error=429]", HttpStatusCode.BadGateway, "429")]
    [InlineData("[mock:hang]", HttpStatusCode.GatewayTimeout, "did not finish answering within 3 s")]
    public async Task An_upstream_that_fails_or_hangs_before_any_output_is_reported_and_its_hold_released(string directive, HttpStatusCode status, string detail)
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = $"Hello {directive}", maxTokens = 50 }), Cancel);

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(detail, (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString());
        Assert.Equal(new Wallet(1000, 0, 1000), await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0));
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_returns_the_stored_answer_and_is_charged_once()
    {
        var user = await chat.UserAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { message = "Once only [mock:tokens=4]", maxTokens = 100 };

        using var first = await user.Client.SendAsync(ChatSystem.ChatRequest(body, json: true, idempotencyKey: key), Cancel);
        using var retry = await user.Client.SendAsync(ChatSystem.ChatRequest(body, json: true, idempotencyKey: key), Cancel);
        using var streamedRetry = await user.Client.SendAsync(ChatSystem.ChatRequest(body, idempotencyKey: key), Cancel);
        using var otherBody = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = "Something else" }, json: true, idempotencyKey: key), Cancel);

        var answer = await first.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var replayed = await retry.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Equal(answer.GetProperty("messageId").GetGuid(), replayed.GetProperty("messageId").GetGuid());
        Assert.Equal(answer.GetProperty("content").GetString(), replayed.GetProperty("content").GetString());
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Contains($"\"messageId\":\"{answer.GetProperty("messageId").GetGuid()}\"", await streamedRetry.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.StatusCode);

        var credits = answer.GetProperty("usage").GetProperty("credits").GetInt64();
        Assert.Equal(1000 - credits, (await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance < 1000)).Balance);
        await Task.Delay(300, Cancel);
        Assert.Single(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task Another_users_session_is_not_found_wherever_it_is_named()
    {
        var owner = await chat.UserAsync();
        var stranger = await chat.UserAsync();
        using var created = await owner.Client.PostAsJsonAsync("/api/chat/sessions", new { title = "Private" }, Cancel);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var sessionId = (await created.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("id").GetGuid();

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/chat/sessions/{sessionId}", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/chat/sessions/{sessionId}/messages", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.PostAsJsonAsync("/api/chat/messages", new { sessionId, role = "user", content = "hi" }, Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.SendAsync(ChatSystem.ChatRequest(new { message = "hi", sessionId }, json: true), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.DeleteAsync($"/api/chat/sessions/{sessionId}", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync($"/api/chat/sessions/{sessionId}", Cancel)).StatusCode);

        using var stored = await owner.Client.PostAsJsonAsync("/api/chat/messages", new { sessionId, role = "user", content = "kept" }, Cancel);
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/chat/sessions/{sessionId}", Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.Client.GetAsync($"/api/chat/sessions/{sessionId}/messages", Cancel)).StatusCode);
        Assert.Equal(new Wallet(1000, 0, 1000), await ChatSystem.BalanceAsync(stranger));
    }

    // An embedding model is served (it is in /v1/models), so "names no model served here" read wrong (a trial).
    [Fact]
    public async Task An_embedding_model_named_for_a_chat_is_refused_as_one()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.PostAsJsonAsync("/api/chat", new { message = "hi", model = "local-embedding" }, Cancel);

        Assert.Equal("The field 'model' names an embedding model, which does not chat (chat models: local-model).",
            await response.ShouldBeProblemAbout(HttpStatusCode.BadRequest, "model"));
    }

    [Theory]
    [InlineData("""{"message": ""}""", "message")]
    [InlineData("""{"message": "hi", "model": "gpt-9"}""", "model")]
    [InlineData("""{"message": "hi", "maxTokens": 0}""", "maxTokens")]
    [InlineData("""{"message": "hi", "sessionId": "not-a-guid"}""", "sessionId")]
    [InlineData("""{"message": 12}""", "message")]
    public async Task Bad_input_is_a_400_problem_naming_the_field(string body, string field)
    {
        var user = await chat.UserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent(body, Encoding.UTF8, "application/json") };

        using var response = await user.Client.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }
}
