using Gateway.Keys.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Keys.ApiKeys;

public abstract record Issuance;
public sealed record Issued(ApiKey Key, string Secret) : Issuance;
public sealed record AlreadyIssued(ApiKey Key) : Issuance;
public sealed record LimitReached(int Active, int Limit) : Issuance
{
    public string Reason => $"API key limit reached: {Active} of {Limit}. Revoke a key to create another.";
}

// Issues keys under the per-user limit. Each issue holds the user's advisory lock for its transaction,
// so two requests at once cannot both count 24 and both insert the 25th, nor create two default keys.
public sealed class ApiKeyIssuer(KeysDbContext db, IOptions<ApiKeyOptions> options, TimeProvider time)
{
    public Task<Issuance> IssueAsync(Guid userId, Guid? organizationId, string name, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        IssueAsync(userId, organizationId, name, expiresAt, isDefault: false, cancellationToken);

    public Task<Issuance> IssueDefaultAsync(Guid userId, Guid? organizationId, CancellationToken cancellationToken) =>
        IssueAsync(userId, organizationId, ApiKey.DefaultName, expiresAt: null, isDefault: true, cancellationToken);

    private async Task<Issuance> IssueAsync(
        Guid userId, Guid? organizationId, string name, DateTimeOffset? expiresAt, bool isDefault, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockUserAsync(UserLock.ApiKeys, userId, cancellationToken);
        var now = time.GetUtcNow();

        if (isDefault && await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.UserId == userId && k.IsDefault && k.RevokedAt == null, cancellationToken) is { } existing)
        {
            return new AlreadyIssued(existing);
        }

        var active = await db.ApiKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now), cancellationToken);
        var limit = options.Value.MaxActivePerUser;
        if (active >= limit)
        {
            return new LimitReached(active, limit);
        }

        var (key, secret) = ApiKey.Issue(userId, organizationId, name, expiresAt, isDefault, now);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new Issued(key, secret);
    }
}
