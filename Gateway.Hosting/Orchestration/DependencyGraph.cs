namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Who starts after whom: what a resource waits for, plus the servers it takes a connection string from (it cannot
/// be configured before they run). Stopping also keeps the projects it calls alive until it is gone, unless that would
/// make a cycle.
/// </summary>
internal static class DependencyGraph
{
    public static void Link(IReadOnlyList<ResourceRunner> runners, Func<IResource, ResourceRunner> runnerOf)
    {
        foreach (var runner in runners)
        {
            var references = runner.Resource is ProjectResource project ? project.References : [];
            var startAfter = runner.Resource.WaitsFor.Concat(references.OfType<IResourceWithConnectionString>()).Select(runnerOf).Where(d => d != runner).Distinct();
            runner.StartsAfter.AddRange(startAfter);
            runner.StopBeforeThese.AddRange(runner.StartsAfter);
        }
        foreach (var runner in runners)
        {
            if (FindCycle(runner, []) is { } cycle)
            {
                throw new AppHostException($"Resources wait for each other in a circle: {cycle}.");
            }
        }
        foreach (var runner in runners)
        {
            var called = runner.Resource is ProjectResource project ? project.References.OfType<ProjectResource>().Select(runnerOf) : [];
            foreach (var other in called.Where(o => o != runner && !runner.StopBeforeThese.Contains(o) && !Reaches(o, runner)))
            {
                runner.StopBeforeThese.Add(other);
            }
        }
    }

    private static string? FindCycle(ResourceRunner runner, List<ResourceRunner> path)
    {
        if (path.Contains(runner))
        {
            return string.Join(" -> ", path.SkipWhile(r => r != runner).Append(runner).Select(r => r.Name));
        }
        path.Add(runner);
        foreach (var dependency in runner.StartsAfter)
        {
            if (FindCycle(dependency, path) is { } cycle)
            {
                return cycle;
            }
        }
        path.RemoveAt(path.Count - 1);
        return null;
    }

    // Whether "from" must stop after "to" already, directly or through others.
    private static bool Reaches(ResourceRunner from, ResourceRunner to) =>
        from == to || from.StopBeforeThese.Any(next => Reaches(next, to));
}
