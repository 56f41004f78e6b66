using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Identity.Tokens;

public sealed record IssuedTokens(string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt);

public abstract record RotationResult
{
    public sealed record Rotated(IssuedTokens Tokens) : RotationResult;
    public sealed record Refused(string Reason) : RotationResult;
}

// Sign-in sessions: a refresh-token family with its rotating tokens, and the access tokens issued for it.
public sealed class Sessions(AccountsDbContext db, AccessTokens accessTokens, IOptions<TokenIssuanceOptions> options, TimeProvider time, ILogger<Sessions> logger)
{
    // Stages a new session in the caller's unit of work; nothing is stored until it saves.
    public IssuedTokens Start(User user)
    {
        var now = time.GetUtcNow();
        var family = new RefreshTokenFamily { Id = Guid.CreateVersion7(), UserId = user.Id, CreatedAt = now };
        db.RefreshTokenFamilies.Add(family);
        return IssueInto(family.Id, user, now);
    }

    public async Task<RotationResult> RotateAsync(string presented, CancellationToken cancellationToken)
    {
        var hash = RefreshToken.Hash(presented);
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var token = await db.RefreshTokens.Include(t => t.Family).SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null || token.Family.RevokedAt is not null)
        {
            return new RotationResult.Refused("The refresh token is not valid.");
        }
        if (token.ExpiresAt <= now)
        {
            return new RotationResult.Refused("The refresh token has expired.");
        }

        // Claimed by a conditional update so two presentations of one token cannot both succeed.
        var claimed = await db.RefreshTokens
            .Where(t => t.Id == token.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken);
        if (claimed == 0)
        {
            await RevokeFamilyAsync(token.FamilyId, "refresh token reused", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogWarning("Refresh token reuse detected; session {SessionId} of user {UserId} revoked", token.FamilyId, token.Family.UserId);
            return new RotationResult.Refused("The refresh token was already used; the session has been ended.");
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == token.Family.UserId, cancellationToken);
        if (user is null)
        {
            return new RotationResult.Refused("The refresh token is not valid.");
        }

        var tokens = IssueInto(token.FamilyId, user, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RotationResult.Rotated(tokens);
    }

    // Ends the session the refresh token belongs to. Unknown tokens are ignored: logout always succeeds.
    public async Task EndByRefreshTokenAsync(string presented, CancellationToken cancellationToken)
    {
        var hash = RefreshToken.Hash(presented);
        var familyId = await db.RefreshTokens.Where(t => t.TokenHash == hash).Select(t => (Guid?)t.FamilyId).SingleOrDefaultAsync(cancellationToken);
        if (familyId is { } id)
        {
            await RevokeFamilyAsync(id, "logout", cancellationToken);
        }
    }

    public Task EndAsync(Guid sessionId, Guid userId, CancellationToken cancellationToken) =>
        db.RefreshTokenFamilies
            .Where(f => f.Id == sessionId && f.UserId == userId && f.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.RevokedAt, time.GetUtcNow()).SetProperty(f => f.RevokedReason, "logout"), cancellationToken);

    public Task EndAllAsync(Guid userId, string reason, CancellationToken cancellationToken) =>
        db.RefreshTokenFamilies
            .Where(f => f.UserId == userId && f.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.RevokedAt, time.GetUtcNow()).SetProperty(f => f.RevokedReason, reason), cancellationToken);

    private Task<int> RevokeFamilyAsync(Guid familyId, string reason, CancellationToken cancellationToken) =>
        db.RefreshTokenFamilies
            .Where(f => f.Id == familyId && f.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.RevokedAt, time.GetUtcNow()).SetProperty(f => f.RevokedReason, reason), cancellationToken);

    private IssuedTokens IssueInto(Guid familyId, User user, DateTimeOffset now)
    {
        var (row, refreshToken) = RefreshToken.Issue(familyId, now, options.Value.RefreshTokenLifetime);
        db.RefreshTokens.Add(row);
        var (accessToken, expiresAt) = accessTokens.Issue(user, familyId);
        return new IssuedTokens(accessToken, refreshToken, expiresAt);
    }
}
