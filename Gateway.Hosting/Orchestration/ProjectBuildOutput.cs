using System.Reflection;
using System.Runtime.Versioning;
using System.Xml.Linq;

namespace Gateway.Hosting.Orchestration;

/// <summary>
/// Where a project's built dll is: bin/&lt;Configuration&gt;/&lt;tfm&gt;/&lt;AssemblyName&gt;.dll, in the configuration and target
/// framework the AppHost itself was built with (building the AppHost builds every project it references).
/// </summary>
internal static class ProjectBuildOutput
{
    public static string Configuration { get; } =
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Debug";

    public static string TargetFramework { get; } =
        Assembly.GetEntryAssembly()?.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName is { } name && name.Contains("Version=v", StringComparison.Ordinal)
            ? "net" + name[(name.IndexOf("Version=v", StringComparison.Ordinal) + 9)..]
            : "net10.0";

    public static string DllPath(ProjectResource project)
    {
        if (!File.Exists(project.ProjectPath))
        {
            throw new AppHostException($"{project.Name}: project file {project.ProjectPath} does not exist.");
        }
        var directory = Path.GetDirectoryName(project.ProjectPath)!;
        var dll = Path.Combine(directory, "bin", Configuration, TargetFramework, AssemblyName(project.ProjectPath) + ".dll");
        return File.Exists(dll)
            ? dll
            : throw new AppHostException($"{project.Name} is not built ({dll} is missing): run `dotnet build Gateway.AppHost -c {Configuration}` first.");
    }

    private static string AssemblyName(string projectPath)
    {
        var declared = XDocument.Load(projectPath).Descendants("AssemblyName").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0);
        return declared ?? Path.GetFileNameWithoutExtension(projectPath);
    }
}
