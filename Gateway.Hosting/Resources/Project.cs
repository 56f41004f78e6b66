using Gateway.Hosting.Processes;

namespace Gateway.Hosting;

/// <summary>A .NET project of the repository, run from its build output with the configuration it references.</summary>
public sealed class ProjectResource(string name, string projectPath) : Resource(name)
{
    /// <summary>The .csproj, absolute.</summary>
    public string ProjectPath { get; } = projectPath;
    public List<IResource> References { get; } = [];
    private string? url;

    /// <summary>Where it listens when the outside world must reach it (the edge); otherwise a free port on 127.0.0.1.</summary>
    public string? ExternalHttpUrl { get; set; }

    /// <summary>Its HTTP address: the external one, or http://127.0.0.1:&lt;a free port picked on first use&gt;.</summary>
    public string Url => ExternalHttpUrl ?? (url ??= $"http://127.0.0.1:{FreePort.Next()}");

    /// <summary>The path that answers 200 once it is ready (WaitFor, restarts).</summary>
    public string HealthCheckPath { get; set; } = "/health/readiness";
    /// <summary>Further variables, read when the project starts.</summary>
    public Dictionary<string, Func<string>> Environment { get; } = [];
}

public static class ProjectBuilderExtensions
{
    /// <param name="projectPath">The .csproj, relative to the repository root.</param>
    public static IResourceBuilder<ProjectResource> AddProject(this DistributedApplicationBuilder builder, string name, string projectPath)
    {
        var fullPath = Path.GetFullPath(Path.Combine(builder.RepositoryRoot, projectPath));
        return builder.AddResource(new ProjectResource(name, fullPath));
    }

    /// <summary>Gives the project <c>ConnectionStrings__&lt;name&gt;</c> for a server or database.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<IResourceWithConnectionString> source)
    {
        builder.Resource.References.Add(source.Resource);
        return builder;
    }

    /// <summary>Gives the project <c>services__&lt;name&gt;__http__0</c>, the other project's URL.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> project)
    {
        builder.Resource.References.Add(project.Resource);
        return builder;
    }

    /// <summary>Listens on <paramref name="url"/> (ASPNETCORE_URLS) instead of a private port: the public entry point.</summary>
    public static IResourceBuilder<ProjectResource> WithExternalHttpEndpoint(this IResourceBuilder<ProjectResource> builder, string url)
    {
        builder.Resource.ExternalHttpUrl = url.TrimEnd('/');
        return builder;
    }

    /// <summary>Judges readiness by GET <paramref name="path"/> answering 200, instead of /health/readiness.</summary>
    public static IResourceBuilder<ProjectResource> WithHttpHealthCheck(this IResourceBuilder<ProjectResource> builder, string path)
    {
        builder.Resource.HealthCheckPath = path;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        builder.Resource.Environment[name] = () => value;
        return builder;
    }
}
