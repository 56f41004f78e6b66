using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Gateway.Hosting;

public static class BuiltBinaryExtensions
{
    /// <summary>
    /// Aspire 13.6 starts a project with <c>dotnet run --no-build</c>: one more process of ≈150 MiB each. This starts the
    /// project's built program directly, from the same configuration (Debug, Release) as the AppHost itself. Relies on
    /// DCP honouring the project's executable annotation (13.6.5 does; AppHost.Tests checks the process it starts).
    /// </summary>
    public static IResourceBuilder<ProjectResource> AsBuiltBinary(this IResourceBuilder<ProjectResource> project)
    {
        if (!project.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            return project;
        }
        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        var directory = Path.GetDirectoryName(projectPath)!;
        var binary = Path.Combine(directory, "bin", BuildConfiguration, "net10.0", AssemblyName(projectPath));
        return project
            .WithAnnotation(new ExecutableAnnotation { Command = binary, WorkingDirectory = directory }, ResourceAnnotationMutationBehavior.Replace)
            .OnBeforeResourceStarted((_, _, _) => File.Exists(binary)
                ? Task.CompletedTask
                : throw new FileNotFoundException($"{binary} is not built: run `dotnet build {projectPath} -c {BuildConfiguration}` (run.sh builds everything)."));
    }

    private static string AssemblyName(string projectPath) =>
        Regex.Match(File.ReadAllText(projectPath), "<AssemblyName>([^<]+)</AssemblyName>") is { Success: true } named
            ? named.Groups[1].Value.Trim()
            : Path.GetFileNameWithoutExtension(projectPath);

    // The AppHost runs from bin/<configuration>/net10.0/.
    private static string BuildConfiguration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent?.Name is { } name && name is "Debug" or "Release" ? name : "Debug";
}
