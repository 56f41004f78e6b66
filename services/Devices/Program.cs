using Gateway.Devices;
using Gateway.Devices.Apis;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDevicesServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseWebSockets();
app.UseAuthentication();
app.UseAuthorization();

app.MapDevicesApi();
app.MapDeviceConnectionApi();
app.MapCustomerSessionsApi();
app.MapLiveEventsApi();

app.Run();
