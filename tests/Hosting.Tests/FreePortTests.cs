using Gateway.Hosting.Servers;

namespace Gateway.Hosting.Tests;

public sealed class FreePortTests
{
    // The AppHost derives the dashboard's OTLP and resource service ports from the dashboard's: all three must be free.
    [Fact]
    public void Consecutive_ports_are_each_free_and_claimed_for_this_process()
    {
        var first = FreePort.Next(3);

        foreach (var port in Enumerable.Range(first, 3))
        {
            Assert.True(FreePort.IsFree(port), $"Port {port} is in use.");
            // Claimed: another process opening the lock file fails, as this one does.
            Assert.Throws<IOException>(() => new FileStream(FreePort.ClaimPath(port), FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        }
    }
}
