using Gateway.Identity;
using Gateway.Identity.Apis;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddIdentityServices();

var app = builder.Build();

app.MapDefaultEndpoints();

app.MapJwksApi();
app.MapAuthApi();
app.MapOAuthApi();
app.MapInvitationsApi();
app.MapUserApi();
app.MapOrganizationApi();
app.MapUsersApi();

app.Run();
