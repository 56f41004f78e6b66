using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Telegram;
using Gateway.MockLlm;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests;

// Seed 002's Telegram through the edge: a user asks for a connect link, opens it in Telegram (/start <token> reaches the
// webhook), polls until connected, and converses with the bot, billed as chat. Telegram is LocalTelegram, a local Bot
// API server that Chat's Telegram.Bot client talks to, which also delivers updates to the webhook with its secret.
public sealed class TelegramTests(TelegramTests.TelegramSystem telegram) : IClassFixture<TelegramTests.TelegramSystem>
{
    private static CancellationToken Cancel => ChatSystem.Cancel;
    private static long LastId = Random.Shared.NextInt64(1_000_000, 1_000_000_000);

    private LocalTelegram Bot => telegram.Telegram;
    private GatewaySystem System => telegram.System;

    public sealed class TelegramSystem(GatewayInfrastructure infrastructure) : IAsyncLifetime
    {
        public LocalTelegram Telegram { get; } = new();
        public MockLlmServer Model { get; private set; } = null!;
        public GatewaySystem System { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await Telegram.StartAsync();
            Model = await MockLlmServer.StartAsync();
            System = await ChatSystem.StartSystemAsync(infrastructure, Model, new()
            {
                ["Chat:Telegram:BotToken"] = LocalTelegram.BotToken,
                ["Chat:Telegram:ApiBaseUrl"] = Telegram.Address,
                ["Chat:Telegram:WebhookUrl"] = "https://gateway.example.test/api/telegram/webhook",
            });
            // Chat registers its webhook in the background as it starts.
            await Eventually.UntilAsync(() => Task.FromResult(Telegram.WebhookSecret), secret => secret is not null);
        }

        public async ValueTask DisposeAsync()
        {
            await System.DisposeAsync();
            await Model.DisposeAsync();
            await Telegram.DisposeAsync();
        }
    }

    [Fact]
    public async Task Chat_registers_its_webhook_with_a_secret_at_start()
    {
        Assert.Equal("https://gateway.example.test/api/telegram/webhook", Bot.WebhookUrl);
        Assert.Matches("^[A-Za-z0-9_-]{32,256}$", Bot.WebhookSecret);
        Assert.Equal(["message"], Bot.AllowedUpdates);
    }

    [Fact]
    public async Task A_user_links_a_chat_with_the_connect_link_and_its_messages_are_answered_and_charged()
    {
        var user = await ChatSystem.UserAsync(System);
        var chatId = NextId();
        Assert.False(await ConnectedAsync(user));

        var token = await ConnectTokenAsync(user);
        using (var start = await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, $"/start {token}")))
        {
            Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        }
        Assert.Equal([TelegramConversation.Connected], await Bot.MessagesToAsync(chatId, 1));
        Assert.True(await ConnectedAsync(user));

        using (var message = await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "Hello from Telegram [mock:echo]")))
        {
            Assert.Equal(HttpStatusCode.OK, message.StatusCode);
        }
        var sent = await Bot.MessagesToAsync(chatId, 2);
        Assert.Equal("Hello from Telegram", sent[1]);

        // Charged as any chat turn, and kept in the user's Telegram session.
        var wallet = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), w => w.Balance < ChatSystem.SignUpGrant && w.Held == 0);
        var usage = Assert.Single(await ChatSystem.UsageEntriesAsync(user));
        Assert.Equal(ChatSystem.SignUpGrant - wallet.Balance, -usage.GetProperty("amount").GetInt64());
        var sessions = await user.Client.GetFromJsonAsync<JsonElement>("/api/chat/sessions", Cancel);
        var session = Assert.Single(sessions.GetProperty("data").EnumerateArray());
        Assert.Equal("Telegram", session.GetProperty("title").GetString());
        var messages = await user.Client.GetFromJsonAsync<JsonElement>($"/api/chat/sessions/{session.GetProperty("id").GetGuid()}/messages", Cancel);
        Assert.Equal(["Hello from Telegram [mock:echo]", "Hello from Telegram"],
            messages.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
    }

    // Seed 002: with the user's assistant running, Telegram converses with it — its instructions, its tools in the
    // user's workspace — billed as any of its turns.
    [Fact]
    public async Task A_linked_users_running_assistant_answers_their_Telegram_messages_with_its_tools_and_they_are_charged()
    {
        var (user, chatId) = await LinkedUserAsync();
        using (var start = await user.Client.PostAsync("/api/assistant/start", null, Cancel))
        {
            Assert.True(start.IsSuccessStatusCode, await start.Content.ReadAsStringAsync(Cancel));
        }
        await AssistantTests.RunningAsync(user);

        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId,
            """Note this. [mock:call write_file {"path":"from-telegram.md","content":"sent from my phone"}]"""));

        var sent = await Bot.MessagesToAsync(chatId, 2);
        Assert.Contains("from-telegram.md", sent[1]);
        var runtime = (Gateway.Chat.Assistants.LocalProcessRuntime)System[GatewayService.Chat].Provider.GetRequiredService<Gateway.Chat.Assistants.IAssistantRuntime>();
        Assert.Equal("sent from my phone", await File.ReadAllTextAsync(Path.Combine(runtime.FolderOf(user.UserId), "workspace", "from-telegram.md"), Cancel));
        // The model was the assistant (its tools offered), and the turn was charged.
        Assert.Contains(telegram.Model.Stats.Bodies, b => b.Contains("sent from my phone") && b.Contains("read_file"));
        var wallet = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), w => w.Balance < ChatSystem.SignUpGrant && w.Held == 0);
        Assert.True(wallet.Balance < ChatSystem.SignUpGrant);
        using var stop = await user.Client.PostAsync("/api/assistant/stop", null, Cancel);
    }

    [Fact]
    public async Task The_webhook_refuses_a_request_without_the_bots_secret()
    {
        var chatId = NextId();

        using var wrong = await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "hello"), secret: "not-the-secret");
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, "/api/telegram/webhook") { Content = JsonContent.Create(LocalTelegram.TextUpdate(NextId(), chatId, "hello")) };
        using var missing = await Edge().SendAsync(unsigned, Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        // A later genuine update of the same chat is answered, and nothing before it was.
        using var genuine = await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "hello"));
        Assert.Equal([TelegramConversation.NotConnected], await Bot.MessagesToAsync(chatId, 1));
    }

    [Fact]
    public async Task A_body_that_is_not_an_update_is_a_400_naming_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/telegram/webhook") { Content = new StringContent("{\"update_id\": \"x\"", global::System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add(LocalTelegram.SecretHeader, Bot.WebhookSecret);

        using var response = await Edge().SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'update'", (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_connect_link_links_one_chat_once()
    {
        var user = await ChatSystem.UserAsync(System);
        var (first, second) = (NextId(), NextId());
        var token = await ConnectTokenAsync(user);

        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), first, $"/start {token}"));
        Assert.Equal([TelegramConversation.Connected], await Bot.MessagesToAsync(first, 1));
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), second, $"/start {token}"));
        Assert.Equal([TelegramConversation.LinkNotValid], await Bot.MessagesToAsync(second, 1));

        // The second chat is not linked: it is told how to connect, and nothing is charged.
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), second, "hello [mock:echo]"));
        Assert.Equal(TelegramConversation.NotConnected, (await Bot.MessagesToAsync(second, 2))[1]);
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task An_expired_connect_link_is_refused()
    {
        var user = await ChatSystem.UserAsync(System);
        var chatId = NextId();
        // A link made 11 minutes ago (links last 10): stored as POST /api/telegram/connect stores one, already past its time.
        var token = ConnectTokens.New();
        await using (var scope = System[GatewayService.Chat].Provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            db.TelegramConnectTokens.Add(new TelegramConnectToken { TokenHash = ConnectTokens.Hash(token), UserId = user.UserId, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
            await db.SaveChangesAsync(Cancel);
        }

        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, $"/start {token}"));

        Assert.Equal([TelegramConversation.LinkNotValid], await Bot.MessagesToAsync(chatId, 1));
        Assert.False(await ConnectedAsync(user));
    }

    [Fact]
    public async Task An_unlinked_chat_is_told_how_to_connect()
    {
        var chatId = NextId();

        using var response = await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "What can you do?"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TelegramConversation.NotConnected], await Bot.MessagesToAsync(chatId, 1));
    }

    [Fact]
    public async Task An_update_delivered_twice_is_answered_and_charged_once()
    {
        var (user, chatId) = await LinkedUserAsync();
        var update = LocalTelegram.TextUpdate(NextId(), chatId, "Only once [mock:echo]");

        using (var first = await Bot.DeliverAsync(Edge(), update))
        using (var again = await Bot.DeliverAsync(Edge(), update))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        // A later message of the same chat is answered after the first (one chat's updates in order): once it is, a
        // second answer to the repeated update would have been sent already.
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "Then this [mock:echo]"));

        var sent = await Bot.MessagesToAsync(chatId, 3);
        Assert.Equal([TelegramConversation.Connected, "Only once", "Then this"], sent);
        await Eventually.UntilAsync(() => ChatSystem.UsageEntriesAsync(user), entries => entries.Count == 2);
        Assert.Equal(2, (await ChatSystem.UsageEntriesAsync(user)).Count);
    }

    [Fact]
    public async Task A_user_out_of_credits_is_told_so_and_not_charged()
    {
        var (user, chatId) = await LinkedUserAsync();
        // Spend the wallet: answers left to us are cut at what the caller can afford, until nothing is left.
        for (var i = 0; i < 10 && (await ChatSystem.BalanceAsync(user)).Available > 0; i++)
        {
            using var spend = await user.Client.SendAsync(ChatSystem.ChatRequest(new { message = $"Spend {i} [mock:tokens=2000]" }, json: true), Cancel);
        }
        var before = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), w => w.Held == 0);
        var charges = (await ChatSystem.UsageEntriesAsync(user)).Count;

        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "Are you there? [mock:echo]"));

        Assert.Equal(TelegramConversation.OutOfCredits, (await Bot.MessagesToAsync(chatId, 2))[1]);
        var after = await Eventually.UntilAsync(() => ChatSystem.BalanceAsync(user), w => w.Held == 0);
        Assert.Equal(before.Balance, after.Balance);
        Assert.Equal(charges, (await ChatSystem.UsageEntriesAsync(user)).Count);
    }

    [Fact]
    public async Task Disconnecting_unlinks_the_chat()
    {
        var (user, chatId) = await LinkedUserAsync();

        using var disconnect = await user.Client.DeleteAsync("/api/telegram/connect", Cancel);

        Assert.Equal(HttpStatusCode.NoContent, disconnect.StatusCode);
        Assert.False(await ConnectedAsync(user));
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "Still there? [mock:echo]"));
        Assert.Equal(TelegramConversation.NotConnected, (await Bot.MessagesToAsync(chatId, 2))[1]);
        Assert.Empty(await ChatSystem.UsageEntriesAsync(user));
    }

    [Fact]
    public async Task A_removed_account_s_chat_is_unlinked()
    {
        var owner = await ChatSystem.UserAsync(System);
        var member = await System.InviteAsync(owner, "member");
        var chatId = NextId();
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, $"/start {await ConnectTokenAsync(member)}"));
        Assert.Equal([TelegramConversation.Connected], await Bot.MessagesToAsync(chatId, 1));

        using var removed = await member.Client.DeleteAsync($"/api/users/{member.UserId}", Cancel);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);

        // UserDeleted reaches Chat through the outbox and the broker: until then the chat may still be linked.
        var sent = await Eventually.UntilAsync(async () =>
        {
            var before = Bot.MessagesTo(chatId).Count;
            await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, "Anyone? [mock:echo]"));
            return await Eventually.UntilAsync(() => Task.FromResult(Bot.MessagesTo(chatId)), m => m.Count > before);
        }, messages => messages[^1] == TelegramConversation.NotConnected, TimeSpan.FromSeconds(30));
        Assert.Equal(TelegramConversation.NotConnected, sent[^1]);
    }

    [Fact]
    public async Task The_connect_routes_take_a_signed_in_user()
    {
        using var anonymous = await Edge().PostAsync("/api/telegram/connect", null, Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    private HttpClient Edge() => telegram.System.CreateEdgeClient();

    private static long NextId() => Interlocked.Increment(ref LastId);

    private async Task<(TestUser User, long ChatId)> LinkedUserAsync()
    {
        var user = await ChatSystem.UserAsync(System);
        var chatId = NextId();
        await Bot.DeliverAsync(Edge(), LocalTelegram.TextUpdate(NextId(), chatId, $"/start {await ConnectTokenAsync(user)}"));
        Assert.Equal([TelegramConversation.Connected], await Bot.MessagesToAsync(chatId, 1));
        return (user, chatId);
    }

    // POST /api/telegram/connect's deep link to the local bot, and the token in it.
    private static async Task<string> ConnectTokenAsync(TestUser user)
    {
        using var response = await user.Client.PostAsync("/api/telegram/connect", null, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var link = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("botUrl").GetString()!;
        var prefix = $"https://t.me/{LocalTelegram.BotUsername}?start=";
        Assert.StartsWith(prefix, link);
        return link[prefix.Length..];
    }

    private static async Task<bool> ConnectedAsync(TestUser user) =>
        (await user.Client.GetFromJsonAsync<JsonElement>("/api/telegram/connect", Cancel)).GetProperty("connected").GetBoolean();
}

// Without a bot token Telegram is off, and the dashboard is told which setting is missing.
[Collection(nameof(ChatSystem))]
public sealed class TelegramOffTests(ChatSystem chat)
{
    [Fact]
    public async Task Connecting_without_a_bot_token_is_a_503_naming_the_setting()
    {
        var user = await chat.UserAsync();

        using var response = await user.Client.PostAsync("/api/telegram/connect", null, ChatSystem.Cancel);
        var status = await user.Client.GetFromJsonAsync<JsonElement>("/api/telegram/connect", ChatSystem.Cancel);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Chat:Telegram:BotToken", (await response.Content.ReadFromJsonAsync<JsonElement>(ChatSystem.Cancel)).GetProperty("detail").GetString());
        // Reading the status is an answer, not an error on every page that shows it.
        Assert.Equal((false, false), (status.GetProperty("available").GetBoolean(), status.GetProperty("connected").GetBoolean()));
    }
}
