using Aspire.Hosting;

namespace Gateway.Hosting;

public static class DataFolderExtensions
{
    /// <summary>Where the local servers keep their data: <c>GATEWAY_DATA</c> (<c>--data</c>), else <c>.gateway/</c> beside the AppHost's folder.</summary>
    public static string DataDirectory(this IDistributedApplicationBuilder builder) =>
        Path.GetFullPath(builder.Setting("data") is { } configured
            ? configured
            : Path.Combine(builder.AppHostDirectory, "..", ".gateway"));
}
