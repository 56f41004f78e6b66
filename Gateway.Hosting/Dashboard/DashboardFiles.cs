using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Hosting.Dashboard;

/// <summary>The browser side: one page, its script and its styles, embedded in this assembly (no JavaScript build step).</summary>
internal static class DashboardFiles
{
    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["login.html"] = "text/html; charset=utf-8",
        ["app.js"] = "text/javascript; charset=utf-8",
        ["app.css"] = "text/css; charset=utf-8",
    };

    public static void MapDashboardFiles(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => File("index.html"));
        app.MapGet("/app.js", () => File("app.js"));
        app.MapGet("/app.css", () => File("app.css"));
    }

    // Read from the assembly once, not on every page load.
    private static readonly Dictionary<string, string> Texts = ContentTypes.Keys.ToDictionary(name => name, Read);

    public static IResult File(string name, int statusCode = StatusCodes.Status200OK) =>
        Results.Text(Texts[name], ContentTypes[name], statusCode: statusCode);

    private static string Read(string name)
    {
        var stream = typeof(DashboardFiles).Assembly.GetManifestResourceStream($"Dashboard.{name}")
            ?? throw new InvalidOperationException($"The dashboard file {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
