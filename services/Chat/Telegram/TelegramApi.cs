using System.Security.Claims;
using System.Text.Json;
using Gateway.Chat.Apis;
using Gateway.Chat.Infrastructure;
using Gateway.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Gateway.Chat.Telegram;

// Seed 002's Telegram: the dashboard asks for a deep link (POST), polls whether the chat is linked (GET) and can
// disconnect it (DELETE); Telegram delivers the bot's updates to the webhook, which only stores them (TelegramInbox
// answers them).
public static class TelegramApi
{
    public static IEndpointRouteBuilder MapTelegramApi(this IEndpointRouteBuilder app)
    {
        var connect = app.MapGroup("/api/telegram/connect").WithTags("Telegram").RequireAuthorization(CallerAuthentication.UserPolicy);
        connect.MapPost("", Connect).WithSummary("Gives a link that connects a Telegram chat to your account.")
            .WithDescription("A deep link to the bot (https://t.me/<bot>?start=<token>) whose single-use token links the Telegram chat that opens it.");
        connect.MapGet("", Status).WithSummary("Whether a Telegram chat is connected to your account.").WithDescription("Whether a Telegram chat is linked to the caller (the dashboard polls this after showing the link).");
        connect.MapDelete("", Disconnect).WithSummary("Disconnects your Telegram chat.").WithDescription("Unlinks the caller's Telegram chat and forgets their unused links.");
        app.MapPost("/api/telegram/webhook", Webhook).WithTags("Webhooks").WithSummary("Telegram's webhook: takes the bot's updates.").AllowAnonymous()
            .WithDescription($"Telegram's updates; refused without the secret given to setWebhook in {TelegramBot.SecretHeader}.");
        return app;
    }

    public static async Task<Results<Ok<TelegramConnectLink>, ProblemHttpResult>> Connect(
        ClaimsPrincipal user, TelegramBot bot, ChatDbContext db, TimeProvider clock, IOptions<TelegramOptions> options,
        ILoggerFactory logs, CancellationToken cancellationToken)
    {
        if (!bot.Enabled)
        {
            return NotConfigured();
        }
        string username;
        try
        {
            username = await bot.UsernameAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logs.CreateLogger(typeof(TelegramApi)).LogWarning("Telegram's getMe failed: {Reason}", ex.Message);
            return ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Telegram unavailable",
                "Telegram could not be reached to make the link; try again shortly.");
        }

        var userId = user.GetUserId();
        var token = ConnectTokens.New();
        var expiresAt = clock.GetUtcNow() + options.Value.LinkLifetime;
        // A new link replaces the caller's earlier ones: only the latest can be opened.
        await db.TelegramConnectTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        db.TelegramConnectTokens.Add(new TelegramConnectToken { TokenHash = ConnectTokens.Hash(token), UserId = userId, ExpiresAt = expiresAt });
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new TelegramConnectLink($"https://t.me/{username}?start={token}", expiresAt));
    }

    // A read, so Telegram being off is an answer (available: false) rather than a 503 on every page that shows it.
    public static async Task<Ok<TelegramConnection>> Status(ClaimsPrincipal user, TelegramBot bot, ChatDbContext db, CancellationToken cancellationToken)
    {
        if (!bot.Enabled)
        {
            return TypedResults.Ok(new TelegramConnection(false, null, Available: false));
        }
        var userId = user.GetUserId();
        var link = await db.TelegramLinks.AsNoTracking().SingleOrDefaultAsync(l => l.UserId == userId, cancellationToken);
        return TypedResults.Ok(new TelegramConnection(link is not null, link?.LinkedAt, Available: true));
    }

    public static async Task<NoContent> Disconnect(ClaimsPrincipal user, ChatDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        await db.TelegramLinks.Where(l => l.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.TelegramConnectTokens.Where(t => t.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    // Stores the update and answers at once. A message of a private chat is answered later (TelegramInbox); anything
    // else (a group, an edited message) is acknowledged and dropped. The same update_id twice is stored once.
    public static async Task<Results<Ok, ProblemHttpResult>> Webhook(
        HttpRequest request, TelegramBot bot, ChatDbContext db, TelegramInbox inbox, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!bot.Enabled)
        {
            return NotConfigured();
        }
        if (!bot.IsWebhookSecret(request.Headers[TelegramBot.SecretHeader]))
        {
            return ApiProblems.Unauthorized($"The {TelegramBot.SecretHeader} header is missing or is not this bot's webhook secret.");
        }
        Update? update;
        try
        {
            update = await JsonSerializer.DeserializeAsync<Update>(request.Body, JsonBotAPI.Options, cancellationToken);
        }
        catch (JsonException ex)
        {
            return ChatProblems.Invalid("update", $"is not a Telegram update ({ex.Message})");
        }
        if (update is not { Id: > 0 })
        {
            return ChatProblems.Invalid("update_id", "is required");
        }
        if (update.Message is not { Chat.Type: ChatType.Private } message)
        {
            return TypedResults.Ok();
        }

        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO telegram_updates ("UpdateId", "ChatId", "Text", "ReceivedAt") VALUES ({update.Id}, {message.Chat.Id}, {Storable(message.Text)}, {clock.GetUtcNow()})
            ON CONFLICT ("UpdateId") DO NOTHING
            """, cancellationToken);
        if (inserted == 1)
        {
            inbox.Received(update.Id, message.Chat.Id);
        }
        return TypedResults.Ok();
    }

    // Postgres text cannot hold the NUL character.
    private static string? Storable(string? text) => text?.Replace('\0', '\uFFFD');

    private static ProblemHttpResult NotConfigured() =>
        ApiProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Telegram not configured",
            "Telegram is not set up on this server: its operator must set Chat:Telegram:BotToken (and Chat:Telegram:WebhookUrl).");
}

public sealed record TelegramConnectLink(string BotUrl, DateTimeOffset ExpiresAt);

// Available: whether this server has Telegram set up at all (Chat:Telegram:BotToken).
public sealed record TelegramConnection(bool Connected, DateTimeOffset? ConnectedAt, bool Available);
