using System.ComponentModel.DataAnnotations;

namespace Gateway.Devices.Fleet;

public sealed record FleetOptions
{
    public const string Section = "Devices:Fleet";

    // Devices an organisation may have at once (pending ones included; deleting one frees its place).
    [Range(1, 100_000, ErrorMessage = "Devices:Fleet:DeviceLimit must be between 1 and 100000.")]
    public int DeviceLimit { get; init; } = 25;

    // Per-organisation limits that replace DeviceLimit (an organisation id → its plan's limit), until
    // plans are published by Billing.
    public Dictionary<Guid, int> OrganizationLimits { get; init; } = [];

    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Devices:Fleet:ActivationCodeLifetime must be between one minute and 30 days.")]
    public TimeSpan ActivationCodeLifetime { get; init; } = TimeSpan.FromHours(24);

    public int LimitFor(Guid organizationId) => OrganizationLimits.TryGetValue(organizationId, out var limit) ? limit : DeviceLimit;
}
