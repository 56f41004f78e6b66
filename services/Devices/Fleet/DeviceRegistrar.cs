using Gateway.Devices.Infrastructure;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Devices.Fleet;

public abstract record Registration;
public sealed record Registered(Device Device, string ActivationCode) : Registration;
public sealed record DeviceLimitReached(int Registered, int Limit) : Registration
{
    public string Reason => $"Device limit reached: {Registered} of {Limit}. Delete a device to register another.";
}

// Registers devices under the organisation's limit. The organisation's advisory lock is held for the
// transaction, so two registrations at once cannot both count 24 and both insert the 25th.
public sealed class DeviceRegistrar(DevicesDbContext db, IOptions<FleetOptions> options, TimeProvider time)
{
    public async Task<Registration> RegisterAsync(Guid organizationId, string name, List<string> labels, Guid registeredBy, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockOrganizationAsync(OrganizationLock.Devices, organizationId, cancellationToken);

        var registered = await db.Devices.CountAsync(d => d.OrganizationId == organizationId, cancellationToken);
        var limit = options.Value.LimitFor(organizationId);
        if (registered >= limit)
        {
            return new DeviceLimitReached(registered, limit);
        }

        var (device, code, evt) = Device.Register(organizationId, name, labels, registeredBy, options.Value.ActivationCodeLifetime, time.GetUtcNow());
        db.Devices.Add(device);
        db.AddToOutbox(evt);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new Registered(device, code);
    }
}
