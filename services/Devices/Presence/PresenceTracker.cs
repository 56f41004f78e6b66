using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.Extensions.Options;

namespace Gateway.Devices.Presence;

// Turns heartbeats and silence into status changes. Every change happens under the device's row lock and
// re-reads Redis there, so a heartbeat racing the sweeper either keeps the device online or brings it
// back online right after: never offline while it is heartbeating.
public sealed class PresenceTracker(DevicesDbContext db, PresenceStore store, IOptions<PresenceOptions> options, TimeProvider time)
{
    public async Task RecordHeartbeatAsync(Guid deviceId, DeviceHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var previous = await store.TouchAsync(deviceId, now, heartbeat);
        // A recent previous heartbeat means the device is online and the sweeper cannot have taken it.
        if (previous is null || previous < now - options.Value.OfflineAfter / 2)
        {
            await ChangeStatusAsync(deviceId, DeviceStatus.Online, now, now, cancellationToken);
        }
    }

    // Marks the device offline if it is still silent since cutoff; answers the last heartbeat seen, if any.
    public async Task<DateTimeOffset?> MarkOfflineIfSilentAsync(Guid deviceId, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var device = await db.LockDeviceAsync(deviceId, cancellationToken);
        var lastSeen = await store.LastSeenAsync(deviceId);
        if (device is null)
        {
            await store.ForgetAsync(deviceId);
            return null;
        }
        if (lastSeen is null || lastSeen >= cutoff)
        {
            return null;
        }
        if (device.ChangeStatus(DeviceStatus.Offline, lastSeen.Value, time.GetUtcNow()) is { } changed)
        {
            db.AddToOutbox(changed);
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return lastSeen;
    }

    private async Task ChangeStatusAsync(Guid deviceId, string status, DateTimeOffset lastSeen, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var device = await db.LockDeviceAsync(deviceId, cancellationToken);
        if (device?.ChangeStatus(status, lastSeen, now) is { } changed)
        {
            db.AddToOutbox(changed);
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }
}
