using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Workloads.Assistant;

// The workspace tools Chat calls on the model's behalf: list, read, write. Every route but /health needs the start's
// secret; a bad path is a 400 problem naming `path`.
public static class ToolsApi
{
    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var tools = app.MapGroup("/tools").AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<ChatSecret>().Matches(context.HttpContext.Request)
                ? await next(context)
                : TypedResults.Problem("The tools answer Chat only.", statusCode: StatusCodes.Status401Unauthorized));
        tools.MapGet("/files", List);
        tools.MapGet("/files/content", Read);
        tools.MapPut("/files/content", Write);
        return app;
    }

    public sealed record Entry(string Path, string Kind, long? Size);

    public sealed record FileText(string Path, string Content);

    public sealed record WriteRequest(string? Path, string? Content);

    public sealed record Written(string Path, string Action, long Size);

    public static Results<Ok<List<Entry>>, ProblemHttpResult> List(string? path, Workspace workspace)
    {
        var (full, problem) = workspace.Resolve(path);
        if (full is null)
        {
            return Invalid("path", problem!);
        }
        if (!Directory.Exists(full))
        {
            return NotFound($"There is no folder '{path}' in the workspace.");
        }
        var entries = new DirectoryInfo(full)
            .EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Take(1000)
            .Select(e => e is FileInfo file
                ? new Entry(workspace.Relative(file.FullName), "file", file.Length)
                : new Entry(workspace.Relative(e.FullName), "directory", null))
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(entries);
    }

    public static async Task<Results<Ok<FileText>, ProblemHttpResult>> Read(string? path, Workspace workspace, CancellationToken cancellationToken)
    {
        var (full, problem) = workspace.Resolve(path);
        if (full is null || full == workspace.Root)
        {
            return Invalid("path", problem ?? "must name a file");
        }
        if (Directory.Exists(full))
        {
            return Invalid("path", "names a folder, not a file (list_files lists a folder)");
        }
        if (!File.Exists(full))
        {
            return NotFound($"There is no file '{path}' in the workspace.");
        }
        if (new FileInfo(full).Length > workspace.MaxFileBytes)
        {
            return Invalid("path", $"names a file larger than {workspace.MaxFileBytes} bytes");
        }
        return TypedResults.Ok(new FileText(workspace.Relative(full), await File.ReadAllTextAsync(full, cancellationToken)));
    }

    public static async Task<Results<Ok<Written>, ProblemHttpResult>> Write(WriteRequest request, Workspace workspace, CancellationToken cancellationToken)
    {
        var (full, problem) = workspace.Resolve(request.Path);
        if (full is null || full == workspace.Root || string.IsNullOrWhiteSpace(request.Path) || request.Path.EndsWith('/'))
        {
            return Invalid("path", problem ?? "must name a file");
        }
        if (request.Content is null)
        {
            return Invalid("content", "is required");
        }
        var size = Encoding.UTF8.GetByteCount(request.Content);
        if (size > workspace.MaxFileBytes)
        {
            return Invalid("content", $"is {size} bytes; a file may have at most {workspace.MaxFileBytes}");
        }
        if (Directory.Exists(full))
        {
            return Invalid("path", "names a folder");
        }
        var existing = File.Exists(full) ? new FileInfo(full).Length : 0;
        if (workspace.UsedBytes() - existing + size > workspace.MaxTotalBytes)
        {
            return Invalid("content", $"would take the workspace over its {workspace.MaxTotalBytes} bytes");
        }
        var action = File.Exists(full) ? "update" : "create";
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Checked again after the folders exist: none of them may be a link made meanwhile.
        if (workspace.Resolve(request.Path).FullPath != full)
        {
            return Invalid("path", "must not go through a symbolic link");
        }
        await File.WriteAllTextAsync(full, request.Content, cancellationToken);
        return TypedResults.Ok(new Written(workspace.Relative(full), action, size));
    }

    private static ProblemHttpResult Invalid(string field, string reason) =>
        TypedResults.Problem(title: "Invalid request", detail: $"The field '{field}' {reason}.", statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [reason] } });

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);
}
