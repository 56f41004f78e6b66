namespace Gateway.ServiceDefaults;

// The one clock of a service (tests replace it): the system's, to the microsecond. Postgres keeps timestamps to the
// microsecond and .NET's clock has tenths of one, so a time answered when something was made (a 201's submittedAt) and
// the same time read back later (a GET, a replay by its submission id) differed in their last digit (the device trial).
public sealed class ServiceClock : TimeProvider
{
    public static readonly TimeProvider Instance = new ServiceClock();

    private ServiceClock()
    {
    }

    public override DateTimeOffset GetUtcNow()
    {
        var now = TimeProvider.System.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
