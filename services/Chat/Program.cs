using Gateway.Chat;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddChatServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
