using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

public abstract record IdempotencyClaim
{
    public static readonly IdempotencyClaim None = new Claimed(null);
}

// The caller may go ahead (Request is null when it sent no key).
public sealed record Claimed(IdempotentRequest? Request) : IdempotencyClaim;

// The key's answer is stored: send it again, charge nothing.
public sealed record Replay(string Response) : IdempotencyClaim;

public sealed record StillRunning : IdempotencyClaim;

public sealed record KeyReused : IdempotencyClaim;

// Idempotency-Key on POST /api/chat and /v1/chat/completions: the key is claimed with one INSERT (unique
// per user), and completed in the transaction that records the usage.
public sealed class IdempotencyKeys(ChatDbContext db, TimeProvider clock, IOptions<ChatServiceOptions> options)
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 200;

    public static string? Problem(string? key) =>
        key is null ? null
        : key.Length is 0 or > MaxLength ? $"must be 1 to {MaxLength} characters"
        : key.Any(char.IsControl) ? "must not contain control characters"
        : null;

    public static string Hash<T>(T request) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(request))));

    public async Task<IdempotencyClaim> ClaimAsync(Guid userId, string? key, string endpoint, string requestHash, CancellationToken cancellationToken)
    {
        if (key is null)
        {
            return IdempotencyClaim.None;
        }
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var now = clock.GetUtcNow();
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO idempotent_requests ("UserId", "Key", "Endpoint", "RequestHash", "CreatedAt")
                VALUES ({userId}, {key}, {endpoint}, {requestHash}, {now}) ON CONFLICT DO NOTHING
                """, cancellationToken);
            var request = new IdempotentRequest { UserId = userId, Key = key, Endpoint = endpoint, RequestHash = requestHash, CreatedAt = now };
            if (inserted == 1)
            {
                return new Claimed(request);
            }

            var existing = await db.IdempotentRequests.AsNoTracking()
                .SingleOrDefaultAsync(r => r.UserId == userId && r.Key == key, cancellationToken);
            if (existing is null)
            {
                continue; // released between the insert and the read
            }
            if (existing.Endpoint != endpoint || existing.RequestHash != requestHash)
            {
                return new KeyReused();
            }
            if (existing.Response is not null)
            {
                return new Replay(existing.Response);
            }
            // A claim older than any hold was left by a crash: take it over.
            var abandonedBefore = now - options.Value.Reservations.HoldFor;
            if (existing.CreatedAt < abandonedBefore && await db.IdempotentRequests
                    .Where(r => r.UserId == userId && r.Key == key && r.Response == null && r.CreatedAt == existing.CreatedAt)
                    .ExecuteUpdateAsync(r => r.SetProperty(x => x.CreatedAt, now), cancellationToken) == 1)
            {
                return new Claimed(request);
            }
            return new StillRunning();
        }
        return new StillRunning();
    }

    // Staged: saved with the usage.
    // The answer is serialized only when a key claimed the request: most requests carry none.
    public void Complete(IdempotencyClaim claim, Func<string> response)
    {
        if (claim is Claimed { Request: { } request })
        {
            db.IdempotentRequests.Attach(request);
            request.Response = response();
            request.CompletedAt = clock.GetUtcNow();
        }
    }

    // Nothing was charged: a retry with the key may run again.
    public async Task ReleaseAsync(IdempotencyClaim claim)
    {
        if (claim is Claimed { Request: { } request })
        {
            await db.IdempotentRequests
                .Where(r => r.UserId == request.UserId && r.Key == request.Key && r.Response == null)
                .ExecuteDeleteAsync(CancellationToken.None);
        }
    }
}
