using System.ComponentModel.DataAnnotations;

namespace Gateway.Devices.Presence;

public sealed record PresenceOptions
{
    public const string Section = "Devices:Presence";

    // A device not heard from for this long is marked offline.
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Devices:Presence:OfflineAfter must be between one second and one day.")]
    public TimeSpan OfflineAfter { get; init; } = TimeSpan.FromSeconds(90);

    // How often each instance looks for silent devices.
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00", ErrorMessage = "Devices:Presence:SweepInterval must be between 50 ms and 10 minutes.")]
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(5);

    // What devices are told to keep to (a third of OfflineAfter by default, so one lost heartbeat is no outage).
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Devices:Presence:HeartbeatInterval must be between one second and one day.")]
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);

    // How often online devices in Postgres are checked against Redis (in case Redis lost its data).
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Devices:Presence:ReconcileInterval must be between one second and one day.")]
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromMinutes(1);
}
