using Gateway.Identity.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Identity.Tokens;

// Deletes refresh tokens a day after they expired, and the sign-in sessions (families) left with none, every
// hour. An expired token is refused whether or not its row exists; the day of grace keeps a just-expired
// token's answer ("has expired", and reuse detection) for clients that retry late.
public sealed class ExpiredSessionPurge(IServiceScopeFactory scopes, TimeProvider time, ILogger<ExpiredSessionPurge> logger) : BackgroundService
{
    private static readonly TimeSpan Every = TimeSpan.FromHours(1);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, time);
        do
        {
            try
            {
                await PurgeAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Purging expired sessions failed, will retry: {Reason}", ex.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<(int Tokens, int Sessions)> PurgeAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        var cutoff = time.GetUtcNow() - Grace;
        var tokens = await db.RefreshTokens.Where(t => t.ExpiresAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        var sessions = await db.RefreshTokenFamilies
            .Where(f => f.CreatedAt < cutoff && !db.RefreshTokens.Any(t => t.FamilyId == f.Id))
            .ExecuteDeleteAsync(cancellationToken);
        if (tokens + sessions > 0)
        {
            logger.LogInformation("Purged {Tokens} expired refresh tokens and {Sessions} ended sessions", tokens, sessions);
        }
        return (tokens, sessions);
    }
}
