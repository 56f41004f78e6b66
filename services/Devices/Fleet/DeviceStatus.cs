namespace Gateway.Devices.Fleet;

// pending: registered, waiting for its activation code; offline: activated but silent; online: heard
// from within the configured silence.
public static class DeviceStatus
{
    public const string Pending = "pending";
    public const string Online = "online";
    public const string Offline = "offline";

    public static readonly string[] All = [Pending, Online, Offline];
}
