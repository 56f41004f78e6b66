using Gateway.Contracts;

namespace Gateway.Devices.Fleet;

// A device of an organisation's fleet. Neither its activation code nor its credential is stored, only
// their SHA-256. Status moves pending → (activation) offline ⇄ online (heartbeats and the sweeper).
public sealed class Device
{
    public const int MaxNameLength = 100;

    private Device() { }

    public Guid Id { get; private init; }
    public Guid OrganizationId { get; private init; }
    public string Name { get; private set; } = "";
    public List<string> Labels { get; private set; } = [];
    public string Status { get; private set; } = DeviceStatus.Pending;
    public Guid RegisteredBy { get; private init; }
    public DateTimeOffset RegisteredAt { get; private init; }
    // Null once used: a code works once.
    public string? ActivationCodeHash { get; private set; }
    public DateTimeOffset? ActivationExpiresAt { get; private set; }
    // Also the concurrency token: of two activations with the same code, only the first saves.
    public DateTimeOffset? ActivatedAt { get; private set; }
    public string? TokenHash { get; private set; }
    // Written on status changes only; the live value is in Redis (see Presence).
    public DateTimeOffset? LastSeenAt { get; private set; }

    public static (Device Device, string ActivationCode, DeviceRegistered Registered) Register(
        Guid organizationId, string name, List<string> labels, Guid registeredBy, TimeSpan codeLifetime, DateTimeOffset now)
    {
        var code = ActivationCode.Generate();
        var device = new Device
        {
            Id = Guid.CreateVersion7(now),
            OrganizationId = organizationId,
            Name = name,
            Labels = labels,
            RegisteredBy = registeredBy,
            RegisteredAt = now,
            ActivationCodeHash = ActivationCode.Hash(ActivationCode.Normalize(code)!),
            ActivationExpiresAt = now + codeLifetime,
        };
        return (device, code, new DeviceRegistered(device.Id, organizationId, name, labels, registeredBy, now));
    }

    public bool CanActivate(DateTimeOffset now) => ActivatedAt is null && ActivationCodeHash is not null && ActivationExpiresAt > now;

    // The device's credential, returned once to the device and never stored in plain text.
    public (string Token, DeviceActivated Activated) Activate(DateTimeOffset now)
    {
        if (!CanActivate(now))
        {
            throw new InvalidOperationException("The device cannot be activated.");
        }
        var token = DeviceToken.Generate();
        TokenHash = DeviceToken.Hash(token);
        ActivationCodeHash = null;
        ActivatedAt = now;
        Status = DeviceStatus.Offline;
        return (token, new DeviceActivated(Id, OrganizationId, now));
    }

    public void Rename(string name) => Name = name;

    public void Relabel(List<string> labels) => Labels = labels;

    // The event to publish, or null when the device already had this status (the change happened elsewhere).
    public DeviceStatusChanged? ChangeStatus(string status, DateTimeOffset lastSeenAt, DateTimeOffset now)
    {
        if (Status == status || Status == DeviceStatus.Pending)
        {
            return null;
        }
        var previous = Status;
        Status = status;
        LastSeenAt = lastSeenAt;
        return new DeviceStatusChanged(Guid.CreateVersion7(now), Id, OrganizationId, previous, status, now);
    }
}
