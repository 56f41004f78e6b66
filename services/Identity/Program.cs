using Gateway.Identity;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddIdentityServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
