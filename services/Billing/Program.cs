using Gateway.Billing;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBillingServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
