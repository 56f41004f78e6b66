using System.Security.Cryptography;

namespace Gateway.Hosting;

/// <summary>A value given to projects, such as a key they share: from configuration, or generated once and kept.</summary>
public sealed class ParameterResource(string name, string value, bool secret) : Resource(name)
{
    public string Value { get; } = value;
    public bool Secret { get; } = secret;
}

public static class ParameterBuilderExtensions
{
    /// <summary>
    /// Parameters:&lt;name&gt; from configuration (environment Parameters__&lt;name&gt;); without it, 32 random bytes (hex)
    /// generated the first time and kept in the data folder (parameters/&lt;name&gt;, mode 600), so restarts agree.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this DistributedApplicationBuilder builder, string name, bool secret = false)
    {
        var value = builder.Configuration[$"Parameters:{name}"] is { Length: > 0 } configured ? configured : Kept(builder.DataDirectory, name);
        return builder.AddResource(new ParameterResource(name, value, secret));
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        builder.Resource.Environment[name] = () => parameter.Resource.Value;
        return builder;
    }

    private static string Kept(string dataDirectory, string name)
    {
        var folder = Path.Combine(dataDirectory, "parameters");
        var path = Path.Combine(folder, name);
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, value + "\n");
        return value;
    }
}
