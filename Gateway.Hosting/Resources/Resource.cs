namespace Gateway.Hosting;

/// <summary>Anything the AppHost runs or hands to a service: a server, a database, a project.</summary>
public interface IResource
{
    string Name { get; }
}

/// <summary>A resource that services reach through <c>ConnectionStrings__&lt;name&gt;</c>.</summary>
public interface IResourceWithConnectionString : IResource;

/// <summary>The declarations every resource can carry: what it waits for before it starts.</summary>
public abstract class Resource(string name) : IResource
{
    public string Name { get; } = name;

    /// <summary>Resources that must be ready before this one starts (<c>WaitFor</c>).</summary>
    public List<IResource> WaitsFor { get; } = [];

    public override string ToString() => Name;
}

/// <summary>A resource declared in the AppHost, with the builder it came from, for chaining.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    T Resource { get; }
    DistributedApplicationBuilder ApplicationBuilder { get; }
}

internal sealed class ResourceBuilder<T>(T resource, DistributedApplicationBuilder applicationBuilder) : IResourceBuilder<T> where T : IResource
{
    public T Resource { get; } = resource;
    public DistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;
}

public static class WaitForExtensions
{
    /// <summary>Starts this resource only once <paramref name="dependency"/> is ready (a server answers, a project's /health/readiness is 200).</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency) where T : Resource
    {
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }
}
