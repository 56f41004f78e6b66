using Gateway.Hosting.Dashboard.Telemetry;
using Gateway.Hosting.Orchestration;
using Gateway.Hosting.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting.Dashboard;

/// <summary>
/// The ops dashboard the AppHost serves (http://localhost:18888 unless GATEWAY_DASHBOARD_URL says otherwise):
/// resources with their vitals and commands, console output, and the OpenTelemetry the projects send to its OTLP/HTTP
/// receiver, which listens on a port of its own on 127.0.0.1 with no login (only the projects write there).
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly BrowserToken token;
    private readonly int otlpPort;

    private DashboardServer(WebApplication app, BrowserToken token, int otlpPort)
    {
        this.app = app;
        this.token = token;
        this.otlpPort = otlpPort;
    }

    /// <summary>The link to print: the dashboard's address with the browser token, once started.</summary>
    public string LoginUrl => $"{Address}/login?t={token.Value}";

    /// <summary>The address the dashboard listens on, once started (a port of 0 resolved).</summary>
    public string Address { get; private set; } = "";

    /// <param name="otlpEndpoint">http://127.0.0.1:PORT, where the projects send OTLP/HTTP.</param>
    public static DashboardServer Create(string url, string otlpEndpoint, Orchestrator orchestrator, IConfiguration configuration)
    {
        var otlpPort = new Uri(otlpEndpoint).Port;
        var token = new BrowserToken();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Gateway.Dashboard", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url.TrimEnd('/'), otlpEndpoint);
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(orchestrator);
        builder.Services.AddSingleton<ResourceMonitor>().AddHostedService(sp => sp.GetRequiredService<ResourceMonitor>());
        builder.Services.AddSingleton<QueueMonitor>().AddHostedService(sp => sp.GetRequiredService<QueueMonitor>());
        builder.Services.AddTelemetryStore(configuration);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.Use((context, next) => Guard(context, next, token, otlpPort));
        MapLogin(app, token);
        app.MapDashboardFiles();
        app.MapResourcesApi();
        app.MapTelemetryApi();
        app.MapOtlpReceiver();
        return new DashboardServer(app, token, otlpPort);
    }

    public async Task StartAsync(CancellationToken ct)
    {
        await app.StartAsync(ct);
        var dashboard = new Uri(app.Urls.First(a => new Uri(a).Port != otlpPort).Replace("://+:", "://localhost:").Replace("://*:", "://localhost:"));
        Address = dashboard.Host is "0.0.0.0" or "[::]" ? $"{dashboard.Scheme}://localhost:{dashboard.Port}" : dashboard.GetLeftPart(UriPartial.Authority);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }

    /// <summary>The OTLP port takes OTLP and nothing else; the dashboard's port takes nothing but the login until signed in.</summary>
    private static Task Guard(HttpContext context, RequestDelegate next, BrowserToken token, int otlpPort)
    {
        var isOtlp = context.Request.Path.StartsWithSegments("/v1");
        if (context.Connection.LocalPort == otlpPort || isOtlp)
        {
            return context.Connection.LocalPort == otlpPort && isOtlp ? next(context) : NotFound(context);
        }
        if (context.Request.Path.StartsWithSegments("/login") || token.IsSignedIn(context))
        {
            return next(context);
        }
        if (context.Request.Path.StartsWithSegments("/api"))
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign in first",
                detail: "Open the login link the AppHost printed at start-up.").ExecuteAsync(context);
        }
        return DashboardFiles.File("login.html", StatusCodes.Status401Unauthorized).ExecuteAsync(context);
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static void MapLogin(WebApplication app, BrowserToken token)
    {
        app.MapGet("/login", (HttpContext context, string? t) => SignIn(context, token, t));
        app.MapPost("/login", async (HttpRequest request) => SignIn(request.HttpContext, token, (await request.ReadFormAsync())["t"]));
    }

    private static IResult SignIn(HttpContext context, BrowserToken token, string? candidate)
    {
        if (!token.Matches(candidate))
        {
            return DashboardFiles.File("login.html", candidate is null ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized);
        }
        token.SignIn(context);
        return Results.Redirect("/");
    }
}
