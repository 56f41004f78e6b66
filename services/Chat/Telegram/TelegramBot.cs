using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace Gateway.Chat.Telegram;

// Chat's side of the Bot API, through Telegram.Bot's client: who the bot is (getMe), where Telegram delivers updates
// (setWebhook, with the secret it must send back), and answers (sendMessage).
public sealed class TelegramBot(IHttpClientFactory clients, IOptions<TelegramOptions> options)
{
    public const string HttpClientName = "telegram";
    public const string SecretHeader = "X-Telegram-Bot-Api-Secret-Token";

    // Telegram refuses longer texts; a longer answer goes as several messages.
    public const int MaxMessageLength = 4096;

    private readonly byte[] _webhookSecret = Encoding.ASCII.GetBytes(DeriveSecret(options.Value.BotToken));
    private string? _username;

    public bool Enabled => options.Value.Enabled;

    // The bot's @username, for deep links; asked of Telegram once.
    public async Task<string> UsernameAsync(CancellationToken cancellationToken) =>
        _username ??= (await Client().GetMe(cancellationToken)).Username
            ?? throw new InvalidOperationException("Telegram's getMe named no username for this bot.");

    public Task RegisterWebhookAsync(CancellationToken cancellationToken) =>
        Client().SetWebhook(options.Value.WebhookUrl!, secretToken: Encoding.ASCII.GetString(_webhookSecret),
            allowedUpdates: [UpdateType.Message], cancellationToken: cancellationToken);

    public async Task SendAsync(long chatId, string text, CancellationToken cancellationToken)
    {
        var client = Client();
        foreach (var part in Parts(text))
        {
            await client.SendMessage(chatId, part, cancellationToken: cancellationToken);
        }
    }

    // Whether a webhook request carries the secret given to setWebhook (compared in constant time).
    public bool IsWebhookSecret(string? header) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(header), _webhookSecret);

    private TelegramBotClient Client() =>
        new(new TelegramBotClientOptions(options.Value.BotToken!, options.Value.ApiBaseUrl), clients.CreateClient(HttpClientName));

    // Derived from the bot token, so every instance agrees on it with nothing more to configure, and a new token makes a
    // new secret. Base64url: Telegram allows A-Z, a-z, 0-9, _ and -.
    private static string DeriveSecret(string? botToken) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(botToken ?? ""), "gateway telegram webhook secret"u8));

    private static IEnumerable<string> Parts(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            yield return "(The answer was empty.)";
            yield break;
        }
        for (var start = 0; start < text.Length;)
        {
            var length = Math.Min(MaxMessageLength, text.Length - start);
            if (length == MaxMessageLength && char.IsHighSurrogate(text[start + length - 1]))
            {
                length--; // never cut a surrogate pair in two
            }
            yield return text.Substring(start, length);
            start += length;
        }
    }
}
