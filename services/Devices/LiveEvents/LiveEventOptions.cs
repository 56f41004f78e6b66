using System.ComponentModel.DataAnnotations;

namespace Gateway.Devices.LiveEvents;

public sealed record LiveEventOptions
{
    public const string Section = "Devices:LiveEvents";

    // How far back a reconnecting client can resume (?lastEventId=): events older than this are gone.
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00", ErrorMessage = "Devices:LiveEvents:ReplayWindow must be between 10 seconds and one day.")]
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromMinutes(5);

    // At most this many events are kept per organisation for resuming, whatever their age.
    [Range(10, 100_000, ErrorMessage = "Devices:LiveEvents:ReplayLimit must be between 10 and 100000.")]
    public int ReplayLimit { get; init; } = 1_000;

    // Events queued for one socket; a client that falls this far behind is dropped (it can resume).
    [Range(1, 100_000, ErrorMessage = "Devices:LiveEvents:ConnectionBuffer must be between 1 and 100000.")]
    public int ConnectionBuffer { get; init; } = 256;

    // A send that takes longer than this means a dead or stalled client: it is dropped.
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Devices:LiveEvents:SendTimeout must be between 100 ms and 5 minutes.")]
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(10);

    // An idle socket carries a keep-alive frame this often, so that nothing on the way takes it for dead: the edge
    // closes an upgraded connection that has been silent for its ActivityTimeout (100 s by default).
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Devices:LiveEvents:KeepAliveInterval must be between 100 ms and one minute.")]
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    // Sockets one user may hold open on one instance at once (a browser tab each): more are refused with 429, so a script
    // cannot open them without bound (the device trial opened 300).
    [Range(1, 10_000, ErrorMessage = "Devices:LiveEvents:MaxSocketsPerUser must be between 1 and 10000.")]
    public int MaxSocketsPerUser { get; init; } = 20;

    // A socket is authorised once, at connection, with a caller token made from a user's access token;
    // closing it after this long makes the client come back with a fresh one (and resume).
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00", ErrorMessage = "Devices:LiveEvents:MaxConnectionLifetime must be between one minute and one day.")]
    public TimeSpan MaxConnectionLifetime { get; init; } = TimeSpan.FromMinutes(30);
}
