namespace Gateway.Workloads.Assistant;

// The assistant's folder: every path a tool names is relative to it and stays inside it. Refused: absolute paths,
// `..`, any path through a symbolic link (a link could point anywhere, and one made later could too) or through a file,
// more than MaxDepth folders deep, and a name longer than the file system takes.
public sealed class Workspace(string root, long maxFileBytes, long maxTotalBytes)
{
    public const int MaxDepth = 32;
    public const int MaxNameBytes = 255;

    public string Root { get; } = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
    public long MaxFileBytes { get; } = maxFileBytes;
    public long MaxTotalBytes { get; } = maxTotalBytes;

    public static Workspace FromConfiguration(IConfiguration configuration)
    {
        var root = configuration["Assistant:Workspace"] is { Length: > 0 } folder
            ? folder
            : throw new InvalidOperationException("Assistant:Workspace (the workspace folder) is not set.");
        Directory.CreateDirectory(root);
        return new Workspace(root,
            configuration.GetValue("Assistant:MaxFileBytes", 1024L * 1024),
            configuration.GetValue("Assistant:MaxWorkspaceBytes", 50L * 1024 * 1024));
    }

    // The full path of a relative one inside the workspace, or why it is refused. Empty or "." is the workspace itself.
    public (string? FullPath, string? Problem) Resolve(string? path)
    {
        path = (path ?? "").Replace('\\', '/');
        if (path.Contains('\0'))
        {
            return (null, "must not contain a NUL character");
        }
        if (path.StartsWith('/') || Path.IsPathRooted(path))
        {
            return (null, "must be relative to the workspace, not absolute");
        }
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s == ".."))
        {
            return (null, "must not contain '..'");
        }
        segments = [.. segments.Where(s => s != ".")];
        if (segments.Length > MaxDepth + 1)
        {
            return (null, $"must not be more than {MaxDepth} folders deep");
        }
        if (segments.FirstOrDefault(s => System.Text.Encoding.UTF8.GetByteCount(s) > MaxNameBytes) is { } tooLong)
        {
            return (null, $"has a name longer than {MaxNameBytes} bytes ('{tooLong[..20]}…')");
        }
        var current = Root;
        for (var i = 0; i < segments.Length; i++)
        {
            current = Path.Combine(current, segments[i]);
            var info = new FileInfo(current);
            if (info.Exists || Directory.Exists(current))
            {
                if (info.LinkTarget is not null || new DirectoryInfo(current).LinkTarget is not null)
                {
                    return (null, "must not go through a symbolic link");
                }
                if (info.Exists && i < segments.Length - 1)
                {
                    return (null, $"goes through '{Relative(current)}', which is a file");
                }
            }
        }
        var full = Path.GetFullPath(current);
        return full == Root || full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? (full, null)
            : (null, "must stay inside the workspace");
    }

    public string Relative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    public long UsedBytes() =>
        new DirectoryInfo(Root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Sum(f => f.Length);
}
