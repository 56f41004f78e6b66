using Microsoft.EntityFrameworkCore;

namespace Gateway.Devices.Infrastructure;

// A per-organisation advisory lock held until the current transaction ends: serialises one
// organisation's count-then-insert (the device limit) without blocking anybody else.
public enum OrganizationLock
{
    Devices = 1,
}

public static class OrganizationLocks
{
    public static Task LockOrganizationAsync(this DevicesDbContext db, OrganizationLock scope, Guid organizationId, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({(int)scope}, hashtext({organizationId.ToString()}))", cancellationToken);
}
