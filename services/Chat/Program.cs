using Gateway.Chat;
using Gateway.Chat.Apis;
using Gateway.Chat.Telegram;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddChatServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();

app.MapChatApi();
app.MapSessionsApi();
app.MapCompletionsApi();
app.MapResponsesApi();
app.MapEmbeddingsApi();
app.MapIconsApi();
app.MapGenerationsApi();
app.MapTelegramApi();
app.MapAssistantApi();

app.Run();
