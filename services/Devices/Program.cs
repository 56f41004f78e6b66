using Gateway.Devices;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDevicesServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
