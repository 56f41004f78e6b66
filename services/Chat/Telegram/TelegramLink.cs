namespace Gateway.Chat.Telegram;

// A Telegram chat linked to a user's account: its messages are that user's turns, in one chat session of their own.
// One chat per user (linking another chat moves the link); one user per chat (a new /start <token> moves it too).
public sealed class TelegramLink
{
    public long ChatId { get; init; }
    public Guid UserId { get; set; }
    public Guid SessionId { get; set; }
    public DateTimeOffset LinkedAt { get; set; }
}

// The single-use token of a deep link (https://t.me/<bot>?start=<token>): only its SHA-256 is stored, and it expires.
public sealed class TelegramConnectToken
{
    public required byte[] TokenHash { get; init; }
    public Guid UserId { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
}

// An update Telegram delivered to the webhook: the inbox row that makes a retried update_id a no-op, and what the
// background handler works from (claimed, then handled once its answer went out).
public sealed class TelegramUpdate
{
    public long UpdateId { get; init; }
    public long ChatId { get; init; }
    public string? Text { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset? ClaimedAt { get; set; }
    public DateTimeOffset? HandledAt { get; set; }
}

public static class ConnectTokens
{
    // 32 random bytes, base64url: 43 characters, within the 64 of A-Z, a-z, 0-9, _ and - that Telegram's start parameter allows.
    public static string New() => System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));
}
