using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Publishing;

namespace Gateway.Hosting;

public static class SecretExtensions
{
    /// <summary>
    /// A secret parameter: <c>Parameters:&lt;name&gt;</c> when configured; otherwise generated on the first run and kept in
    /// the AppHost's user secrets, as Aspire's integrations keep their passwords. When publishing, the deployer gives it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddSecret(this IDistributedApplicationBuilder builder, string name, SecretKind kind = SecretKind.Password) =>
        builder.ExecutionContext.IsPublishMode
            ? builder.AddParameter(name, secret: true)
            : builder.AddParameter(name, kind == SecretKind.Password ? new GenerateParameterDefault { MinLength = 32, Special = false } : new RandomKey(), secret: true, persist: true);
}

public enum SecretKind
{
    /// <summary>Letters and digits, safe in a URI and a connection string.</summary>
    Password,
    /// <summary>The base64 of 32 random bytes: an encryption or signing key.</summary>
    Key,
}

internal sealed class RandomKey : ParameterDefault
{
    public override string GetDefaultValue() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public override void WriteToManifest(ManifestPublishingContext context) { }
}
