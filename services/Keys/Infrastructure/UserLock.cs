using Microsoft.EntityFrameworkCore;

namespace Gateway.Keys.Infrastructure;

// A per-user advisory lock held until the current transaction ends: serialises one user's
// count-then-insert (a limit) without blocking anybody else.
public enum UserLock
{
    ApiKeys = 1,
    Vault = 2,
}

public static class UserLocks
{
    public static Task LockUserAsync(this KeysDbContext db, UserLock scope, Guid userId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({(int)scope}, hashtext({userId.ToString()}))", cancellationToken);
}
