using Gateway.Assistant;

// One user's assistant: the tools of its workspace over HTTP, for Chat only (README.md).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddProblemDetails();
builder.Services.AddSingleton(Workspace.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton(await ChatSecret.ReadAsync(builder.Configuration));
builder.Services.AddHostedService<ParentWatch>();

var app = builder.Build();
app.UseStatusCodePages();
app.MapGet("/health", () => TypedResults.Ok(new { status = "healthy" }));
app.MapToolsApi();

await app.StartAsync();
// The address it listens on, for whoever started it (port 0 lets the system choose a free one).
Console.WriteLine($"listening: {app.Urls.First()}");
await app.WaitForShutdownAsync();
