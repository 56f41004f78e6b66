using Gateway.Keys;
using Gateway.Keys.Apis;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddKeysServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();

app.MapApiKeysApi();
app.MapVaultApi();
app.MapApiKeyResolutionApi();

app.Run();
