using Gateway.Workloads.Assistant;

// One user's assistant: the tools of its workspace over HTTP, for Chat only (README.md). Its content root is the
// program's folder, not its working folder (the user's workspace), and configuration files are never watched: a watch
// covers the content root's whole tree, and a workspace folders deep (the model can make one) left the process starting
// its watches forever, answering nothing while its status said running (a trial: 200 levels).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"],
    ContentRootPath = AppContext.BaseDirectory,
});
// Settings come from the command line and the environment only: an appsettings.json in the workspace (its working
// folder) is a file of the user's, and the one beside the program may be Chat's own (Chat's output folder holds both).
foreach (var file in builder.Configuration.Sources.OfType<Microsoft.Extensions.Configuration.FileConfigurationSource>().ToList())
{
    builder.Configuration.Sources.Remove(file);
}
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddProblemDetails();
builder.Services.AddSingleton(Workspace.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton(await ChatSecret.ReadAsync(builder.Configuration));
builder.Services.AddHostedService<ParentWatch>();

var app = builder.Build();
// Whatever fails inside answers a problem, which Chat hands to the model, never an empty 500.
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapGet("/health", () => TypedResults.Ok(new { status = "healthy" }));
app.MapToolsApi();

await app.StartAsync();
// The address it listens on, for whoever started it (port 0 lets the system choose a free one).
Console.WriteLine($"listening: {app.Urls.First()}");
await app.WaitForShutdownAsync();
