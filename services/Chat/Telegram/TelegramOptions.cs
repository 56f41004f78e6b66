using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Telegram;

// The Telegram bot ("Chat:Telegram" section). Without a BotToken Telegram is off: the connect routes answer 503 naming
// the setting, and nothing is registered with Telegram.
public sealed partial record TelegramOptions
{
    public const string Section = "Chat:Telegram";

    // From @BotFather, "<bot id>:<secret>". A secret: never logged (ToString below).
    public string? BotToken { get; init; }

    // The public URL Telegram delivers updates to: the edge's /api/telegram/webhook, e.g.
    // https://gateway.example.com/api/telegram/webhook (Telegram itself takes only https on ports 443, 80, 88, 8443).
    public string? WebhookUrl { get; init; }

    // The Bot API server: Telegram's, a self-hosted telegram-bot-api, or the tests' local one.
    public string ApiBaseUrl { get; init; } = "https://api.telegram.org";

    // How long a connect link (its single-use token) may wait to be opened.
    public TimeSpan LinkLifetime { get; init; } = TimeSpan.FromMinutes(10);

    // How many linked chats' messages are answered at once by one Chat instance (each chat's in order).
    public int MaxConcurrentTurns { get; init; } = 8;

    // How often the inbox looks for updates left unanswered (a crash, Telegram unreachable) and drops old rows.
    public TimeSpan SweepEvery { get; init; } = TimeSpan.FromMinutes(1);

    public bool Enabled => !string.IsNullOrEmpty(BotToken);

    public override string ToString() =>
        $"{nameof(TelegramOptions)} {{ BotToken = {(Enabled ? "set" : "none")}, WebhookUrl = {WebhookUrl}, ApiBaseUrl = {ApiBaseUrl} }}";

    [GeneratedRegex(@"^[0-9]+:[A-Za-z0-9_-]+$")]
    internal static partial Regex TokenFormat();
}

public sealed class TelegramOptionsValidator : IValidateOptions<TelegramOptions>
{
    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled)
        {
            if (!TelegramOptions.TokenFormat().IsMatch(options.BotToken!))
            {
                failures.Add("Chat:Telegram:BotToken must be the token @BotFather gave, \"<bot id>:<secret>\".");
            }
            if (!Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out var webhook) || webhook.Scheme is not ("http" or "https"))
            {
                failures.Add("Chat:Telegram:WebhookUrl must be the absolute public URL of the edge's /api/telegram/webhook when Chat:Telegram:BotToken is set.");
            }
        }
        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
        {
            failures.Add("Chat:Telegram:ApiBaseUrl must be an absolute http(s) URL (https://api.telegram.org).");
        }
        if (options.LinkLifetime < TimeSpan.FromMinutes(1) || options.LinkLifetime > TimeSpan.FromDays(1))
        {
            failures.Add("Chat:Telegram:LinkLifetime must be between 00:01:00 and 1.00:00:00.");
        }
        if (options.MaxConcurrentTurns < 1)
        {
            failures.Add("Chat:Telegram:MaxConcurrentTurns must be at least 1.");
        }
        if (options.SweepEvery <= TimeSpan.Zero)
        {
            failures.Add("Chat:Telegram:SweepEvery must be more than zero.");
        }
        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
