using Gateway.Chat.Conversations;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Telegram.Bot.Exceptions;

namespace Gateway.Chat.Telegram;

// Answers one update from the inbox: "/start <token>" links the chat to the token's user; a linked chat's message is
// its user's turn (TelegramTurn); any other chat is told how to connect. The update is claimed first, so that one
// instance answers it once, and marked handled once the answer went out.
public sealed class TelegramConversation(
    ChatDbContext db, TelegramBot bot, TelegramTurn turns, TimeProvider clock, IOptions<ChatServiceOptions> chat,
    ILogger<TelegramConversation> logger)
{
    public const string NotConnected =
        "This chat is not connected to a Gateway account. On your dashboard choose Connect Telegram and open the link it gives you; then send your message again.";
    public const string Connected =
        "Connected: this chat is now linked to your Gateway account. Send a message and the answer comes here, charged to your credits like any chat.";
    public const string AlreadyConnected = "This chat is connected to your Gateway account: just send a message.";
    public const string LinkNotValid =
        "This connect link has expired or was already used. Make a new one on your dashboard (Connect Telegram) and open it within a few minutes.";
    public const string TextOnly = "I can only read text messages.";
    public const string OutOfCredits =
        "Your credits have run out, so this message was not answered and nothing was charged. Buy credits on your dashboard, then send it again.";

    // An update claimed longer ago than any turn's hold may last was lost with the instance that claimed it (a crash): it
    // is taken over, and by then its turn's Idempotency-Key may be too (replayed if it was charged, run if it was not).
    public static TimeSpan ClaimLease(ChatServiceOptions chat) => chat.Reservations.HoldFor + TimeSpan.FromMinutes(1);

    public async Task HandleAsync(long updateId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var staleBefore = now - ClaimLease(chat.Value);
        var claimed = await db.TelegramUpdates
            .Where(u => u.UpdateId == updateId && u.HandledAt == null && (u.ClaimedAt == null || u.ClaimedAt < staleBefore))
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.ClaimedAt, now), cancellationToken);
        if (claimed == 0)
        {
            return; // answered already, or in hand elsewhere
        }
        var update = await db.TelegramUpdates.AsNoTracking().SingleAsync(u => u.UpdateId == updateId, cancellationToken);

        var reply = await ReplyAsync(update, cancellationToken);
        try
        {
            await bot.SendAsync(update.ChatId, reply, cancellationToken);
        }
        catch (ApiRequestException ex) when (ex.ErrorCode is StatusCodes.Status400BadRequest or StatusCodes.Status403Forbidden)
        {
            // Telegram refused it (the user blocked the bot, the chat is gone): sending again would not help. Anything
            // else (unreachable, 429, 5xx) leaves the update claimed, to be answered again once the claim lapses.
            logger.LogWarning("Telegram refused the answer to update {UpdateId}: {Status} {Reason}", updateId, ex.ErrorCode, ex.Message);
        }
        await db.TelegramUpdates.Where(u => u.UpdateId == updateId)
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.HandledAt, clock.GetUtcNow()), cancellationToken);
    }

    private async Task<string> ReplyAsync(TelegramUpdate update, CancellationToken cancellationToken)
    {
        if (StartCommand(update.Text, out var token))
        {
            return token is not null ? await LinkAsync(update.ChatId, token, cancellationToken)
                : await db.TelegramLinks.AnyAsync(l => l.ChatId == update.ChatId, cancellationToken) ? AlreadyConnected
                : NotConnected;
        }
        var link = await db.TelegramLinks.SingleOrDefaultAsync(l => l.ChatId == update.ChatId, cancellationToken);
        if (link is null)
        {
            return NotConnected;
        }
        if (string.IsNullOrWhiteSpace(update.Text))
        {
            return TextOnly;
        }

        var key = $"telegram:{update.UpdateId}";
        var result = await turns.RunAsync(link.UserId, link.SessionId, update.Text, key, cancellationToken);
        if (result.Refusal is { Status: StatusCodes.Status404NotFound })
        {
            // The user deleted the link's session: this message starts a new one.
            link.SessionId = NewSession(link.UserId).Id;
            await db.SaveChangesAsync(cancellationToken);
            result = await turns.RunAsync(link.UserId, link.SessionId, update.Text, $"{key}:{link.SessionId}", cancellationToken);
        }
        return result switch
        {
            { Answer: { } answer } => answer,
            { Refusal.Status: StatusCodes.Status402PaymentRequired } => OutOfCredits,
            { Refusal: { } refusal } => $"Sorry, this message could not be answered just now. {refusal.Detail}",
            _ => throw new InvalidOperationException("A turn came back with neither an answer nor a refusal."),
        };
    }

    // Consumes the token and links the chat to its user, in one transaction: a token opened twice at once links once.
    private async Task<string> LinkAsync(long chatId, string token, CancellationToken cancellationToken)
    {
        var hash = ConnectTokens.Hash(token);
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var found = await db.TelegramConnectTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (found is null || await db.TelegramConnectTokens.Where(t => t.TokenHash == hash).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return LinkNotValid;
        }
        if (found.ExpiresAt <= now)
        {
            await transaction.CommitAsync(cancellationToken); // an expired token is gone either way
            return LinkNotValid;
        }

        // One chat per user: a link from another chat moves here. A chat linked to someone else becomes this user's.
        await db.TelegramLinks.Where(l => l.UserId == found.UserId && l.ChatId != chatId).ExecuteDeleteAsync(cancellationToken);
        var link = await db.TelegramLinks.SingleOrDefaultAsync(l => l.ChatId == chatId, cancellationToken);
        if (link is null)
        {
            db.TelegramLinks.Add(new TelegramLink { ChatId = chatId, UserId = found.UserId, SessionId = NewSession(found.UserId).Id, LinkedAt = now });
        }
        else if (link.UserId != found.UserId)
        {
            (link.UserId, link.SessionId, link.LinkedAt) = (found.UserId, NewSession(found.UserId).Id, now);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Telegram chat linked to user {UserId}", found.UserId);
        return Connected;
    }

    private ChatSession NewSession(Guid userId)
    {
        var now = clock.GetUtcNow();
        var session = new ChatSession { UserId = userId, Title = "Telegram", CreatedAt = now, UpdatedAt = now };
        db.Sessions.Add(session);
        return session;
    }

    // "/start", "/start <payload>" or "/start@bot_name <payload>"; not "/started".
    private static bool StartCommand(string? text, out string? payload)
    {
        payload = null;
        if (text is null || !text.StartsWith("/start", StringComparison.Ordinal))
        {
            return false;
        }
        var rest = text["/start".Length..];
        if (rest.StartsWith('@'))
        {
            rest = rest.IndexOf(' ') is var space and >= 0 ? rest[space..] : "";
        }
        else if (rest.Length > 0 && !char.IsWhiteSpace(rest[0]))
        {
            return false;
        }
        payload = rest.Trim() is { Length: > 0 } given ? given : null;
        return true;
    }
}
