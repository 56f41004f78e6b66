namespace Gateway.Hosting.Orchestration;

/// <summary>Where the repository is and where the servers' data lives.</summary>
internal static class HostPaths
{
    public static string FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (dir.EnumerateFiles("*.sln").Any() || dir.EnumerateFiles("*.slnx").Any())
                {
                    return dir.FullName;
                }
            }
        }
        throw new AppHostException($"No solution file found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}: run the AppHost from the repository.");
    }

    /// <summary>GATEWAY_DATA (or --data) when given, else .gateway/ at the repository root.</summary>
    public static string DataDirectory(string? configured, string repositoryRoot) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? Path.Combine(repositoryRoot, ".gateway") : configured);
}
