using System.Security.Cryptography;
using System.Text;

namespace Gateway.Hosting;

/// <summary>A value given to projects, such as a key they share: from configuration, or generated once and kept.</summary>
public sealed class ParameterResource(string name, string value, bool secret) : Resource(name)
{
    public string Value { get; } = value;
    public bool Secret { get; } = secret;
}

/// <summary>How a parameter's value is made when configuration does not give one.</summary>
public static class ParameterDefault
{
    public static Func<string> RandomHex(int bytes = 32) => () => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    public static Func<string> RandomBase64(int bytes = 32) => () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes));
}

public static class ParameterBuilderExtensions
{
    /// <summary>
    /// Parameters:&lt;name&gt; from configuration (environment Parameters__&lt;name&gt;). Without it, a value is generated the first
    /// time (<paramref name="generate"/>, 32 random bytes in hex by default) and kept, like Aspire's user secrets, in
    /// ~/.config/gateway-apphost/&lt;data folder's hash&gt;/&lt;name&gt; (mode 600): away from the data it may protect, the same on every restart.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this DistributedApplicationBuilder builder, string name, Func<string>? generate = null, bool secret = false)
    {
        var value = builder.Configuration[$"Parameters:{name}"] is { Length: > 0 } configured
            ? configured
            : Kept(builder.DataDirectory, name, generate ?? ParameterDefault.RandomHex());
        return builder.AddResource(new ParameterResource(name, value, secret));
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        builder.Resource.Environment[name] = () => parameter.Resource.Value;
        return builder;
    }

    private static string Kept(string dataDirectory, string name, Func<string> generate)
    {
        var home = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } config
            ? config
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        var owner = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDirectory)))[..16];
        var folder = Path.Combine(home, "gateway-apphost", owner);
        var path = Path.Combine(folder, name);
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(folder, "data-folder"), dataDirectory + "\n");
        var value = generate();
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, value + "\n");
        return value;
    }
}
