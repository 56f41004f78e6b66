using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Chat.Assistants;
using Gateway.MockLlm;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

// Identity, Keys, Billing, Chat, Devices and the edge, with assistants looked at every 100 ms and restarted quickly.
public sealed class AssistantSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
{
    public GatewaySystem System { get; private set; } = null!;
    public MockLlmServer Model { get; private set; } = null!;

    public static Dictionary<string, string?> Settings(double idleMinutes) => new()
    {
        ["Chat:Assistants:CheckEvery"] = "00:00:00.100",
        ["Chat:Assistants:FirstRestartDelay"] = "00:00:00.200",
        ["Chat:Assistants:MaxCrashes"] = "3",
        ["Chat:Assistants:HealthTimeout"] = "00:00:02",
        ["Chat:Assistants:IdleMinutes"] = idleMinutes.ToString(global::System.Globalization.CultureInfo.InvariantCulture),
        // A turn with tools is one upstream call: the model's calls, the tools run in the assistant, the next call's hold.
        // The 3 s the other Chat tests give it (to keep the timeout tests short) ran out under a full suite's load: a
        // reservation cancelled with the call, and a 504 where the test waited for the 402 of the hold Billing refused.
        ["Chat:Upstream:Timeout"] = "00:00:30",
        // A busy caller's standby holds go back after this idle time (2 s by default): a tool turn's later call that takes
        // them (A_later_model_call_of_the_tool_loop_takes…) came more than 2 s after they were made under a full suite's
        // load, once, and found them on their way back to Billing.
        ["Chat:Reservations:Standby:IdleRelease"] = "00:00:05",
    };

    public async ValueTask InitializeAsync()
    {
        Model = await MockLlmServer.StartAsync();
        System = await ChatSystem.StartSystemAsync(infrastructure, Model, Settings(idleMinutes: 10), [GatewayService.Devices]);
    }

    public async ValueTask DisposeAsync()
    {
        await System.DisposeAsync();
        await Model.DisposeAsync();
    }
}

[CollectionDefinition(nameof(AssistantSystem))]
public sealed class AssistantCollection : ICollectionFixture<AssistantSystem>;

// Seed 002's personal assistant: a process per user with its own workspace, started and stopped through the edge, its
// status in GET /api/user and on the live socket, and tools that run inside it when its owner chats, metered.
[Collection(nameof(AssistantSystem))]
public sealed class AssistantTests(AssistantSystem assistants, ITestOutputHelper output)
{
    private static CancellationToken Cancel => ChatSystem.Cancel;
    private GatewaySystem System => assistants.System;

    [Fact]
    public async Task A_started_assistant_runs_writes_files_with_its_tools_and_keeps_them_across_a_restart()
    {
        var user = await ChatSystem.UserAsync(System);
        await using var live = await LiveEvents.ConnectAsync(System.Edge, user);
        var never = await user.Client.GetFromJsonAsync<JsonElement>("/api/user", Cancel);
        Assert.Equal("stopped", never.GetProperty("assistant").GetProperty("status").GetString());

        var clock = Stopwatch.StartNew();
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal("starting", (await start.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetString());
        await RunningAsync(user);
        await ToolsReadyAsync(user);
        output.WriteLine($"start → running: {clock.ElapsedMilliseconds} ms");
        await live.NextAsync(e => e.GetProperty("type").GetString() == "assistant_status" && e.GetProperty("data").GetProperty("status").GetString() == "running");
        var profile = await user.Client.GetFromJsonAsync<JsonElement>("/api/user", Cancel);
        Assert.Equal("running", profile.GetProperty("assistant").GetProperty("status").GetString());
        output.WriteLine($"idle assistant RSS: {RssKiB(ProcessOf(user)!.Value)} KiB");

        // Starting it again changes nothing.
        using var again = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var before = await ChatSystem.BalanceAsync(user);
        var events = await ChatAsync(user, """Note this. [mock:call write_file {"path":"notes/todo.md","content":"buy milk"}]""");
        var activities = events.Where(e => e.Name == "activity").Select(e => e.Data).ToList();
        Assert.Contains(activities, a => a.GetProperty("type").GetString() == "tool_call" && a.GetProperty("name").GetString() == "write_file");
        Assert.Contains(activities, a => a.GetProperty("type").GetString() == "tool_result" && a.GetProperty("name").GetString() == "write_file"
            && a.GetProperty("detail").GetString()!.Contains("\"action\":\"create\""));
        var artifact = Assert.Single(events, e => e.Name == "artifact").Data;
        Assert.Equal("notes/todo.md", artifact.GetProperty("path").GetString());
        Assert.Equal("buy milk", artifact.GetProperty("content").GetString());
        Assert.Equal("create", artifact.GetProperty("action").GetString());
        var done = Assert.Single(events, e => e.Name == "done").Data;
        var credits = done.GetProperty("usage").GetProperty("credits").GetInt64();
        Assert.True(credits > 0);
        // Both model calls of the loop are in the one charge, and only they are.
        var settled = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == before.Balance - credits);
        Assert.Equal(before.Balance - credits, settled.Balance);
        Assert.Equal(2, assistants.Model.Stats.Bodies.Count(b => b.Contains("buy milk") && b.Contains("write_file")));
        Assert.Equal("buy milk", await File.ReadAllTextAsync(Path.Combine(WorkspaceOf(user), "notes", "todo.md"), Cancel));

        // The model was told who it is for.
        var body = assistants.Model.Stats.Bodies.Last(b => b.Contains("buy milk"));
        Assert.Contains("Test User", body);
        Assert.Contains("read_file", body);

        using var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.Equal("stopped", (await stop.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetString());
        Assert.Null(ProcessOf(user));
        using var stopAgain = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.Equal(HttpStatusCode.OK, stopAgain.StatusCode);
        await live.NextAsync(e => e.GetProperty("type").GetString() == "assistant_status" && e.GetProperty("data").GetProperty("status").GetString() == "stopped");

        // Stopped, a chat is a plain chat: no tools.
        var plain = await ChatAsync(user, "Hello there");
        Assert.DoesNotContain(plain, e => e.Name == "activity");
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0);

        using var restart = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, restart.StatusCode);
        await RunningAsync(user);
        await ToolsReadyAsync(user);
        // What is left of the sign-up grant after two turns must hold this turn's two model calls at their worst case:
        // a short answer keeps that far below it (the 402 of a call the wallet cannot hold has its own test below).
        var read = await ChatAsync(user, """What did I note? [mock:call read_file {"path":"notes/todo.md"}]""", maxTokens: 100);
        var answer = string.Concat(read.Where(e => e.Name == "token").Select(e => e.Data.GetProperty("text").GetString()));
        Assert.True(answer.Contains("buy milk"), "The answer's events: " + string.Join(" | ", read.Select(e => $"{e.Name} {e.Data}")));
    }

    // Asked for as one JSON answer, the same refusal is a 402 problem titled for what happened (it said "Model failed").
    [Fact]
    public async Task A_json_tool_turn_the_wallet_cannot_finish_is_a_402_titled_insufficient_credits_saying_what_was_charged()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        var text = string.Join(' ', Enumerable.Repeat("word", 300));

        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = $$"""[mock:call write_file {"path":"big.txt","content":"{{text}}"}]""" }, json: true), Cancel);

        var problem = await response.ShouldBeProblem(HttpStatusCode.PaymentRequired);
        Assert.Equal("Insufficient credits", problem.GetProperty("title").GetString());
        Assert.Matches(@"^Required: \d+, Available: \d+\. .* \d+ credits were charged", problem.GetProperty("detail").GetString());
    }

    // Billing counts a busy caller's standby holds as held: a later call of a tool loop that needed more than Billing had
    // available was refused ("Available: 0") while the caller's own credits sat in them (the second trial's 4,808 credits,
    // the same turn served 3 s later, once they had gone back). It takes them, as a growing answer does.
    [Fact]
    public async Task A_later_model_call_of_the_tool_loop_takes_its_callers_standby_holds_rather_than_being_refused_while_they_hold_its_credits()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        var spent = 0L;
        for (var i = 0; i < 3; i++)
        {
            if (i > 0)
            {
                await Task.Delay(300, Cancel);
            }
            using var response = await user.Client.PostAsJsonAsync("/v1/chat/completions", new
            {
                model = "local-model",
                max_tokens = 20,
                messages = new[] { new { role = "user", content = "Hello [mock:tokens=3]" } },
            }, Cancel);
            spent += (await response.ShouldBe(HttpStatusCode.OK)).GetProperty("usage").GetProperty("total_tokens").GetInt64();
        }
        var before = await ChatSystem.BalanceAsync(user);
        Assert.True(before.Held >= 256, $"No standby holds: {before}");

        var text = string.Join(' ', Enumerable.Repeat("word", 90));
        var events = await ChatAsync(user, $$"""[mock:call write_file {"path":"some.txt","content":"{{text}}"}]""");

        output.WriteLine($"before {before}; events: {string.Join(" | ", events.Where(e => e.Name is "error" or "done").Select(e => $"{e.Name} {e.Data}"))}");
        Assert.DoesNotContain(events, e => e.Name == "error");
        var credits = Assert.Single(events, e => e.Name == "done").Data.GetProperty("usage").GetProperty("credits").GetInt64();
        Assert.True(credits > before.Available, $"The turn cost {credits}, more than Billing had available ({before})");
        spent += credits;
        var settled = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == ChatSystem.SignUpGrant - spent);
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant - spent, 0, ChatSystem.SignUpGrant - spent), settled);
    }

    [Fact]
    public async Task An_answers_tool_calls_are_kept_in_its_session_and_shown_to_the_model_again_while_the_assistant_runs()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        var first = await ChatAsync(user, """Note this. [mock:call write_file {"path":"notes/list.md","content":"eggs"}]""", maxTokens: 100);
        var sessionId = Assert.Single(first, e => e.Name == "done").Data.GetProperty("sessionId").GetGuid();

        // The session's history shows what the answer did.
        var messages = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{sessionId}/messages", Cancel);
        var answer = messages.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "assistant");
        var use = Assert.Single(answer.GetProperty("toolCalls").EnumerateArray());
        Assert.Equal("write_file", use.GetProperty("name").GetString());
        Assert.Contains("eggs", use.GetProperty("arguments").GetString());
        Assert.Contains("\"action\":\"create\"", use.GetProperty("result").GetString());
        Assert.False(messages.GetProperty("data")[0].TryGetProperty("toolCalls", out var none) && none.ValueKind != JsonValueKind.Null);

        // The next turn's prompt has the call and its result, between the question and the answer, as the model made them.
        await ChatAsync(user, "What did you write? [mock:tokens=3]", sessionId: sessionId);
        var prompt = PromptOf(assistants.Model.Stats.Bodies.Last(b => b.Contains("What did you write?")));
        var call = prompt.FindIndex(m => m.Role == "assistant" && m.ToolCall == "write_file");
        Assert.True(call > 0, string.Join(" | ", prompt));
        Assert.Contains("Note this.", prompt[call - 1].Content);
        Assert.Equal("tool", prompt[call + 1].Role);
        Assert.Contains("\"action\":\"create\"", prompt[call + 1].Content);
        Assert.Equal("assistant", prompt[call + 2].Role);
        Assert.Null(prompt[call + 2].ToolCall);

        // Stopped, the assistant offers no tools, and the prompt has no calls to them: its answers' text stays.
        using var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.True(stop.IsSuccessStatusCode);
        await ChatAsync(user, "And now? [mock:tokens=3]", sessionId: sessionId);
        var plain = PromptOf(assistants.Model.Stats.Bodies.Last(b => b.Contains("And now?")));
        Assert.DoesNotContain(plain, m => m.Role == "tool" || m.ToolCall is not null);
        Assert.Equal(["user", "assistant", "user", "assistant", "user"], plain.Select(m => m.Role));
    }

    // Counted as JSON-escaped text, a history's tool results made a later turn's hold larger than its prompt: near the end
    // of a wallet, a tool turn's second model call was refused with credits left (the second trial).
    [Fact]
    public void A_tool_result_from_the_history_is_counted_as_the_text_the_model_gets()
    {
        var tokens = new Gateway.Chat.Metering.TokenCounter();
        const string Result = """{"action":"create","path":"notes/list.md"}""";

        var counted = tokens.CountPrompt([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.Tool, [new Microsoft.Extensions.AI.FunctionResultContent("call_1", Result)])]);

        Assert.Equal(3 + 3 + tokens.Count("tool") + tokens.Count(Result), counted);
    }

    private sealed record PromptMessage(string Role, string? Content, string? ToolCall);

    private static List<PromptMessage> PromptOf(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() != "system")
            .Select(m => new PromptMessage(m.GetProperty("role").GetString()!,
                m.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : content.ValueKind == JsonValueKind.Array ? content.ToString() : null,
                m.TryGetProperty("tool_calls", out var calls) ? calls[0].GetProperty("function").GetProperty("name").GetString() : null))
            .ToList();

    [Fact]
    public async Task A_model_call_of_the_tool_loop_the_wallet_cannot_hold_ends_the_turn_with_402_and_what_was_used_is_charged()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        // The file's text is in the message, in the first call's tool call and in the second call's prompt: with 1,000
        // credits the first call can be held, the second cannot.
        var text = string.Join(' ', Enumerable.Repeat("word", 300));

        var events = await ChatAsync(user, $$"""[mock:call write_file {"path":"big.txt","content":"{{text}}"}]""");

        var error = Assert.Single(events, e => e.Name == "error").Data;
        Assert.Equal(402, error.GetProperty("status").GetInt32());
        Assert.StartsWith("Required: ", error.GetProperty("detail").GetString());
        Assert.Single(events, e => e.Name == "artifact");
        var credits = Assert.Single(events, e => e.Name == "done").Data.GetProperty("usage").GetProperty("credits").GetInt64();
        var settled = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0 && b.Balance == ChatSystem.SignUpGrant - credits);
        Assert.Equal(new Wallet(ChatSystem.SignUpGrant - credits, 0, ChatSystem.SignUpGrant - credits), settled);
        Assert.True(credits > 600, $"the first call's prompt and tool call were charged ({credits})");
    }

    [Fact]
    public async Task A_json_answer_lists_the_files_the_tools_wrote()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        await ChatAsync(user, """[mock:call write_file {"path":"a.md","content":"one"}]""");
        // The first turn's holds settled, so the second one's worst case fits in what is left.
        await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), b => b.Held == 0);

        using var response = await user.Client.SendAsync(
            ChatSystem.ChatRequest(new { message = """[mock:call write_file {"path":"a.md","content":"two"}]""" }, json: true), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var artifact = Assert.Single(answer.GetProperty("artifacts").EnumerateArray());
        Assert.Equal("a.md", artifact.GetProperty("path").GetString());
        Assert.Equal("two", artifact.GetProperty("content").GetString());
        Assert.Equal("update", artifact.GetProperty("action").GetString());
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(WorkspaceOf(user), "a.md"), Cancel));
    }

    [Fact]
    public async Task A_path_out_of_the_workspace_is_refused_to_the_model()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        File.WriteAllText(Path.Combine(System.AssistantsDirectory, "outside.txt"), "secret");
        Directory.CreateSymbolicLink(Path.Combine(WorkspaceOf(user), "link"), System.AssistantsDirectory);

        var events = await ChatAsync(user, """[mock:call read_file {"path":"../../outside.txt"}][mock:call read_file {"path":"/etc/passwd"}][mock:call read_file {"path":"link/outside.txt"}]""");

        var results = events.Where(e => e.Name == "activity" && e.Data.GetProperty("type").GetString() == "tool_result")
            .Select(e => JsonDocument.Parse(e.Data.GetProperty("detail").GetString()!).RootElement.GetProperty("detail").GetString()!).ToList();
        Assert.Equal(3, results.Count);
        Assert.Contains("must not contain '..'", results[0]);
        Assert.Contains("not absolute", results[1]);
        Assert.Contains("symbolic link", results[2]);
        Assert.DoesNotContain(results, r => r.Contains("secret") || r.Contains("root:"));
    }

    // A workspace folders deep (the model could make one) left a restarted assistant starting file watches on it forever,
    // answering nothing while its status said running (a trial: 200 levels), and a path through a file was an empty 500
    // that the model got as a JSON parser's error. Deep paths are refused, the workspace is never watched, and every
    // refusal says why.
    [Fact]
    public async Task A_deep_workspace_does_not_stop_a_restarted_assistant_and_bad_paths_are_refused_saying_why()
    {
        var user = await ChatSystem.UserAsync(System);
        // Five model calls with the assistant's tools and instructions in every prompt are more than the sign-up grant.
        await System[GatewayService.Billing].Provider.GetRequiredService<Gateway.Billing.Ledger.CreditLedger>()
            .GrantAsync(Guid.NewGuid(), user.UserId, 4000, "More for a long turn", user.OrganizationId, Cancel);
        await StartedAsync(user);
        Directory.CreateDirectory(Path.Combine([WorkspaceOf(user), .. Enumerable.Repeat("d", 300)]));
        File.WriteAllText(Path.Combine(WorkspaceOf(user), "c"), "a file");
        using (var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel))
        {
            Assert.True(stop.IsSuccessStatusCode);
        }
        await StartedAsync(user);

        var clock = Stopwatch.StartNew();
        var deep = string.Join('/', Enumerable.Repeat("e", 40));
        var events = await ChatAsync(user, $$"""[mock:call write_file {"path":"c/x.txt","content":"x"}][mock:call write_file {"path":"{{deep}}/f.txt","content":"x"}][mock:call read_file {"path":"d"}][mock:call write_file {"path":"dir/","content":"x"}]""");
        clock.Stop();

        var results = events.Where(e => e.Name == "activity" && e.Data.GetProperty("type").GetString() == "tool_result")
            .Select(e => JsonDocument.Parse(e.Data.GetProperty("detail").GetString()!).RootElement.GetProperty("detail").GetString()!).ToList();
        Assert.True(results.Count == 4, string.Join(" | ", events.Select(e => $"{e.Name} {e.Data}")));
        Assert.Equal("The field 'path' goes through 'c', which is a file.", results[0]);
        Assert.Equal("The field 'path' must not be more than 32 folders deep.", results[1]);
        Assert.Equal("The field 'path' names a folder, not a file (list_files lists a folder).", results[2]);
        Assert.Equal("The field 'path' must name a file.", results[3]);
        // Each call would have waited out the tools' 10 s timeout on a process that does not answer.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"The turn took {clock.Elapsed}");
        Assert.False(Directory.Exists(Path.Combine(WorkspaceOf(user), "dir")) || File.Exists(Path.Combine(WorkspaceOf(user), "dir")));
    }

    [Fact]
    public async Task The_tool_API_refuses_a_caller_without_the_start_s_secret()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        var runtime = System[GatewayService.Chat].Provider.GetRequiredService<IAssistantRuntime>();
        var endpoint = (await runtime.GetAsync(user.UserId, Cancel)).Endpoint!;
        using var http = new HttpClient { BaseAddress = endpoint };

        using var anonymous = await http.GetAsync("tools/files", Cancel);
        http.DefaultRequestHeaders.Authorization = new("Bearer", "not-the-secret-not-the-secret-not-the-secret");
        using var guessed = await http.GetAsync("tools/files", Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, guessed.StatusCode);
    }

    [Fact]
    public async Task A_crashed_assistant_is_restarted_and_failed_after_repeated_crashes()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);

        Process.GetProcessById(ProcessOf(user)!.Value).Kill();
        var restarting = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "starting");
        Assert.Contains("crash", restarting.GetProperty("reason").GetString());
        await RunningAsync(user);

        Process.GetProcessById(ProcessOf(user)!.Value).Kill();
        await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "starting");
        await RunningAsync(user);
        Process.GetProcessById(ProcessOf(user)!.Value).Kill();

        var failed = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "failed");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("crashed 3 times", failed.GetProperty("reason").GetString());
        var profile = await user.Client.GetFromJsonAsync<JsonElement>("/api/user", Cancel);
        Assert.Equal("failed", profile.GetProperty("assistant").GetProperty("status").GetString());
        Assert.Null(ProcessOf(user));

        // Started again by its owner, it runs.
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        await RunningAsync(user);
    }

    // A process that lives but answers nothing stayed `running`, each tool call of its owner's waiting 10 s (the third
    // trial of session 24 hung one that way); the supervisor now asks its /health.
    [Fact]
    public async Task An_assistant_that_stops_answering_is_restarted_as_a_crashed_one_is()
    {
        var user = await ChatSystem.UserAsync(System);
        await StartedAsync(user);
        var hung = ProcessOf(user)!.Value;

        using (var stop = Process.Start("kill", ["-STOP", hung.ToString()])) await stop.WaitForExitAsync(Cancel);
        try
        {
            var restarting = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "starting", TimeSpan.FromSeconds(30));
            Assert.Contains("stopped answering", restarting.GetProperty("reason").GetString());
            await RunningAsync(user);
            Assert.NotEqual(hung, ProcessOf(user));
        }
        finally
        {
            using var resume = Process.Start("kill", ["-CONT", hung.ToString()]); // killed on its restart; never left stopped
            await resume.WaitForExitAsync(Cancel);
        }
    }

    [Fact]
    public async Task Deleting_the_account_removes_the_assistant_and_its_workspace()
    {
        var owner = await ChatSystem.UserAsync(System);
        var member = await System.InviteAsync(owner, "member");
        await StartedAsync(member);
        await ChatAsync(member, """[mock:call write_file {"path":"a.txt","content":"mine"}]""");
        Assert.True(File.Exists(Path.Combine(WorkspaceOf(member), "a.txt")));

        using var remove = await owner.Client.DeleteAsync($"/api/users/{member.UserId}", Cancel);
        Assert.True(remove.IsSuccessStatusCode, await remove.Content.ReadAsStringAsync(Cancel));

        await Eventually.UntilAsync(() => Task.FromResult(Directory.Exists(FolderOf(member))), exists => !exists);
        Assert.False(Directory.Exists(FolderOf(member)));
        Assert.Null(ProcessOf(member));
    }

    [Fact]
    public async Task Another_users_assistant_is_not_theirs_to_see_or_stop()
    {
        var owner = await ChatSystem.UserAsync(System);
        var other = await ChatSystem.UserAsync(System);
        await StartedAsync(owner);

        using var stop = await other.Client.PostAsync("/api/assistant/stop", null, Cancel);
        Assert.Equal("stopped", (await StatusAsync(other)).GetProperty("status").GetString());
        Assert.Equal("running", (await StatusAsync(owner)).GetProperty("status").GetString());
    }

    // Its own system: assistants stopped after 0.05 minutes (3 s) without use.
    [Fact]
    public async Task An_assistant_nobody_uses_is_stopped()
    {
        await using var model = await MockLlmServer.StartAsync();
        await using var system = await ChatSystem.StartSystemAsync((await TestContext.Current.GetFixture<GatewayInfrastructure>())!, model,
            AssistantSystem.Settings(idleMinutes: 0.05));
        var user = await ChatSystem.UserAsync(system);
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);

        // Only a running assistant is stopped for being idle (so this reason says it ran), however slowly it started.
        var stopped = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "stopped", TimeSpan.FromSeconds(40));

        Assert.Equal("stopped", stopped.GetProperty("status").GetString());
        Assert.Contains("without use", stopped.GetProperty("reason").GetString());
        var runtime = (LocalProcessRuntime)system[GatewayService.Chat].Provider.GetRequiredService<IAssistantRuntime>();
        Assert.Null(runtime.ProcessId(user.UserId));
    }

    private async Task StartedAsync(TestUser user)
    {
        using var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel);
        Assert.True(start.IsSuccessStatusCode, await start.Content.ReadAsStringAsync(Cancel));
        await RunningAsync(user);
        await ToolsReadyAsync(user);
    }

    // The runtime answers with the tools' address as well (under full-suite load a turn right after "running" was
    // seen without its tools, twice in three runs: not yet understood, see the session note).
    private async Task ToolsReadyAsync(TestUser user) =>
        await Eventually.UntilAsync(() => Runtime.GetAsync(user.UserId, Cancel), s => s is { State: RuntimeState.Running, Endpoint: not null }, TimeSpan.FromSeconds(30));

    // Also KubernetesRuntimeTests': the same API whichever runtime runs the assistant.
    internal static async Task RunningAsync(TestUser user)
    {
        var status = await Eventually.UntilAsync(() => StatusAsync(user), s => s.GetProperty("status").GetString() == "running", TimeSpan.FromSeconds(30));
        Assert.Equal("running", status.GetProperty("status").GetString());
    }

    internal static async Task<JsonElement> StatusAsync(TestUser user) =>
        await user.Client.GetFromJsonAsync<JsonElement>("/api/assistant", Cancel);

    internal static async Task<List<ServerSentEvent>> ChatAsync(TestUser user, string message, int? maxTokens = null, Guid? sessionId = null)
    {
        using var response = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message, maxTokens, sessionId }), HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<ServerSentEvent>();
        await foreach (var e in ServerSentEvents.ReadAsync(await response.Content.ReadAsStreamAsync(Cancel)))
        {
            events.Add(e);
        }
        Assert.Contains(events, e => e.Name == "done");
        return events;
    }

    private LocalProcessRuntime Runtime => (LocalProcessRuntime)System[GatewayService.Chat].Provider.GetRequiredService<IAssistantRuntime>();

    private int? ProcessOf(TestUser user) => Runtime.ProcessId(user.UserId);

    private string FolderOf(TestUser user) => Runtime.FolderOf(user.UserId);

    private string WorkspaceOf(TestUser user) => Path.Combine(FolderOf(user), "workspace");

    private static long RssKiB(int processId) =>
        long.Parse(File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}
