using Gateway.Hosting.Orchestration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Hosting;

/// <summary>Collects the resources an AppHost declares; <see cref="Build"/> turns them into a runnable application.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> resources = [];

    internal DistributedApplicationBuilder(string[] args)
    {
        Configuration = new ConfigurationManager();
        Configuration.AddEnvironmentVariables();
        Configuration.AddCommandLine(CommandLine.ToConfigurationArguments(args));
        RepositoryRoot = HostPaths.FindRepositoryRoot();
        DataDirectory = HostPaths.DataDirectory(Configuration["GATEWAY_DATA"], RepositoryRoot);
    }

    /// <summary>Environment variables, then the command line (<c>--data X</c> is the key GATEWAY_DATA, <c>--edge-url X</c> GATEWAY_EDGE_URL).</summary>
    public ConfigurationManager Configuration { get; }

    /// <summary>The folder holding the solution file; project paths are relative to it.</summary>
    public string RepositoryRoot { get; }

    /// <summary>Where the servers keep their data: GATEWAY_DATA (or --data), else .gateway/ at the repository root.</summary>
    public string DataDirectory { get; }

    public IResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        if (resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"A resource named '{resource.Name}' is already declared.", nameof(resource));
        }
        resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    public DistributedApplication Build() => new(resources, DataDirectory, Configuration);
}
