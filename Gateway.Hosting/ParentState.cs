using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Gateway.Hosting;

public static class ParentStateExtensions
{
    /// <summary>
    /// Aspire 13.6 gives the children of containers their parent's state, not the children of executables: a database
    /// of a local server would stay state-less and whatever waits for it would wait forever. This mirrors the parent's.
    /// </summary>
    public static IResourceBuilder<T> WithParentState<T>(this IResourceBuilder<T> builder) where T : IResourceWithParent =>
        builder.OnInitializeResource((child, e, ct) =>
        {
            _ = Task.Run(async () =>
            {
                await foreach (var parent in e.Notifications.WatchAsync(ct))
                {
                    if (parent.Resource == child.Parent)
                    {
                        await e.Notifications.PublishUpdateAsync(child, s => s with
                        {
                            State = parent.Snapshot.State,
                            StartTimeStamp = parent.Snapshot.StartTimeStamp,
                            StopTimeStamp = parent.Snapshot.StopTimeStamp,
                            ExitCode = parent.Snapshot.ExitCode,
                        });
                    }
                }
            }, ct);
            return Task.CompletedTask;
        });
}
