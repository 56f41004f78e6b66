using Gateway.Keys;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddKeysServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
