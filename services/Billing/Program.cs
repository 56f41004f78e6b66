using Gateway.Billing;
using Gateway.Billing.Apis;
using Gateway.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBillingServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();

app.MapBalanceApi();
app.MapPurchaseApi();
app.MapBillingPortalApi();
app.MapLedgerAdminApi();

app.Run();
