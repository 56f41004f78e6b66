using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Gateway.Testing;

// Stands in for Telegram on 127.0.0.1: the part of the Bot API (https://core.telegram.org/bots/api) Chat's Telegram.Bot
// client calls — getMe, setWebhook, sendMessage at /bot<token>/<method>, JSON in, {ok, result} or {ok: false,
// error_code, description} out — and Telegram's other half, delivering updates to the registered webhook with its
// secret header. The webhook's registered URL is a public one; tests deliver to the edge at its path.
public sealed class LocalTelegram : IAsyncDisposable
{
    public const string BotToken = "7000000001:local-test-bot-token";
    public const string BotUsername = "gateway_local_bot";
    public const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    private WebApplication? _app;
    private long _messageIds;

    public string Address { get; private set; } = "";

    // What the last setWebhook said.
    public string? WebhookUrl { get; private set; }
    public string? WebhookSecret { get; private set; }
    public IReadOnlyList<string>? AllowedUpdates { get; private set; }

    // Every sendMessage, in order: (chat_id, text).
    public ConcurrentQueue<(long ChatId, string Text)> Sent { get; } = new();

    public IReadOnlyList<string> MessagesTo(long chatId) => [.. Sent.Where(m => m.ChatId == chatId).Select(m => m.Text)];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapMethods("/{bot}/{method}", ["GET", "POST"], async (string bot, string method, HttpRequest request) =>
        {
            if (bot != $"bot{BotToken}")
            {
                return Error(401, "Unauthorized");
            }
            using var reader = new StreamReader(request.Body);
            var json = await reader.ReadToEndAsync();
            var body = json.Length > 0 ? JsonNode.Parse(json) as JsonObject ?? [] : [];
            switch (method)
            {
                case "getMe":
                    return Ok(new { id = 7000000001, is_bot = true, first_name = "Gateway", username = BotUsername });
                case "setWebhook":
                    WebhookUrl = (string?)body["url"];
                    WebhookSecret = (string?)body["secret_token"];
                    AllowedUpdates = body["allowed_updates"]?.AsArray().Select(u => (string)u!).ToList();
                    return Ok(true, "Webhook was set");
                case "sendMessage":
                    var chatId = body["chat_id"] is JsonValue given && (given.TryGetValue<long>(out var id) || long.TryParse((string?)given, out id)) ? id : 0;
                    var text = (string?)body["text"] ?? "";
                    if (chatId == 0 || text.Length is 0 or > 4096)
                    {
                        return Error(400, chatId == 0 ? "Bad Request: chat not found" : "Bad Request: message text is empty or too long");
                    }
                    Sent.Enqueue((chatId, text));
                    return Ok(new
                    {
                        message_id = Interlocked.Increment(ref _messageIds),
                        date = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                        chat = new { id = chatId, type = "private", first_name = "Tester" },
                        from = new { id = 7000000001, is_bot = true, first_name = "Gateway", username = BotUsername },
                        text,
                    });
                default:
                    return Error(404, "Not Found");
            }
        });
        await _app.StartAsync();
        Address = _app.Urls.First();
    }

    // Delivers an update as Telegram does: POSTed to the registered webhook's path (here, on the given client's
    // address: the edge), with the registered secret unless another is given.
    public async Task<HttpResponseMessage> DeliverAsync(HttpClient edge, object update, string? secret = null)
    {
        var path = new Uri(WebhookUrl ?? throw new InvalidOperationException("No webhook was registered.")).PathAndQuery;
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(update) };
        request.Headers.TryAddWithoutValidation(SecretHeader, secret ?? WebhookSecret);
        return await edge.SendAsync(request, TestContext.Current.CancellationToken);
    }

    // A text message from a person in their private chat with the bot (chat id = user id, as Telegram has it).
    public static object TextUpdate(long updateId, long chatId, string text) => new
    {
        update_id = updateId,
        message = new
        {
            message_id = updateId,
            date = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            from = new { id = chatId, is_bot = false, first_name = "Tester", language_code = "en" },
            chat = new { id = chatId, type = "private", first_name = "Tester" },
            text,
            entities = text.StartsWith('/') ? new[] { new { type = "bot_command", offset = 0, length = text.Split(' ')[0].Length } } : null,
        },
    };

    // The messages the bot sent to a chat, once there are at least count of them (15 s at most).
    public Task<IReadOnlyList<string>> MessagesToAsync(long chatId, int count) =>
        Eventually.UntilAsync(() => Task.FromResult(MessagesTo(chatId)), messages => messages.Count >= count);

    private static IResult Ok(object result, string? description = null) =>
        Results.Json(description is null ? new { ok = true, result } : new { ok = true, result, description });

    private static IResult Error(int status, string description) =>
        Results.Json(new { ok = false, error_code = status, description }, statusCode: status);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
