using System.Linq.Expressions;
using Gateway.Contracts;
using Gateway.Identity.Accounts;
using Gateway.Identity.Infrastructure;
using Gateway.ServiceDefaults.Outbox;
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
            await EndWhereAsync(f => f.Id == token.FamilyId, "refresh token reused", cancellationToken);
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
            await EndWhereAsync(f => f.Id == id, "logout", cancellationToken);
        }
    }

    public Task EndAsync(Guid sessionId, Guid userId, CancellationToken cancellationToken) =>
        EndWhereAsync(f => f.Id == sessionId && f.UserId == userId, "logout", cancellationToken);

    // Stages the end of every session of the user in the caller's unit of work (the account's removal).
    public Task StageEndOfAllAsync(Guid userId, string reason, CancellationToken cancellationToken) =>
        StageEndWhereAsync(f => f.UserId == userId, reason, cancellationToken);

    private async Task EndWhereAsync(Expression<Func<RefreshTokenFamily, bool>> which, string reason, CancellationToken cancellationToken)
    {
        await StageEndWhereAsync(which, reason, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task StageEndWhereAsync(Expression<Func<RefreshTokenFamily, bool>> which, string reason, CancellationToken cancellationToken)
    {
        foreach (var family in await db.RefreshTokenFamilies.Where(which).Where(f => f.RevokedAt == null).ToListAsync(cancellationToken))
        {
            StageEnd(family, reason);
        }
    }

    // The refresh tokens stop here; SessionEnded (in the same commit) makes every edge refuse the session's
    // access tokens too, which would otherwise be accepted until they expire.
    private void StageEnd(RefreshTokenFamily family, string reason)
    {
        var now = time.GetUtcNow();
        family.RevokedAt = now;
        family.RevokedReason = reason;
        db.AddToOutbox(new SessionEnded(family.Id, family.UserId, now, now + options.Value.AccessTokenLifetime));
    }

    private IssuedTokens IssueInto(Guid familyId, User user, DateTimeOffset now)
    {
        var (row, refreshToken) = RefreshToken.Issue(familyId, now, options.Value.RefreshTokenLifetime);
        db.RefreshTokens.Add(row);
        var (accessToken, expiresAt) = accessTokens.Issue(user, familyId);
        return new IssuedTokens(accessToken, refreshToken, expiresAt);
    }
}
