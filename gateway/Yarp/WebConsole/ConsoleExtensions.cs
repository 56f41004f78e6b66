using Microsoft.Extensions.FileProviders;

namespace Gateway.Edge.WebConsole;

// The web console (web/console, bundled into console/ beside the edge by its build): its files, and index.html for
// its pages' paths, which the console's own router reads. It calls the public API like any other client.
public static class ConsoleExtensions
{
    private const string Folder = "console";

    // Paths that are never a console page: an unknown one there stays the API's 404.
    private const string NotAPage = "^(?!(api|v1|internal|health|docs|\\.well-known)(/|$))";

    public static WebApplication UseConsole(this WebApplication app)
    {
        var root = Path.Combine(app.Environment.ContentRootPath, Folder);
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            app.Logger.LogWarning("The web console is not built ({Root} has no index.html): build the edge (its build runs npm in web/console).", root);
            return app;
        }

        var files = new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(root),
            // Bundles carry a hash of their content in their names; index.html names the current ones.
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = context.File.Name == "index.html"
                ? "no-cache"
                : "public, max-age=31536000, immutable",
        };
        app.UseStaticFiles(files);
        app.MapGet("/", (HttpContext context) => Index(context, root)).ExcludeFromDescription();
        // Pages are only read: another method on a path no route serves is the API's 404, never the page.
        app.MapFallback($"{{*path:nonfile:regex({NotAPage})}}", (HttpContext context) =>
            HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? Index(context, root) : Results.NotFound())
            .ExcludeFromDescription();
        return app;
    }

    private static IResult Index(HttpContext context, string root)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.PhysicalFile(Path.Combine(root, "index.html"), "text/html; charset=utf-8");
    }
}
