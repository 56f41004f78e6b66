using Gateway.Billing.Apis;
using Gateway.Billing.Infrastructure;
using Gateway.Billing.Ledger;
using Gateway.Billing.Portal;
using Gateway.Billing.Purchases;
using Gateway.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Billing;

public static class Extensions
{
    public static IHostApplicationBuilder AddBillingServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<BillingDbContext>("billingdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddCallerAuthentication();

        builder.Services.AddOptions<LedgerOptions>().BindConfiguration(LedgerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // The ledger talks to Postgres directly: one function call per operation or batch, no change
        // tracking; its connections are kept like every service's (Postgres.AsOurServicesUseIt).
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(builder.Configuration.RequireConnectionString("billingdb"))
            .AsOurServicesUseIt().Build());
        builder.Services.AddSingleton<LedgerMetrics>();
        builder.Services.AddSingleton<Ledger.CreditLedger>();
        builder.Services.AddSingleton<LedgerAudit>();
        builder.Services.AddSingleton<HoldSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HoldSweeper>());

        builder.Services.AddHttpClient(StripeClients.HttpClientName);
        builder.Services.AddSingleton<StripeClients>();
        builder.Services.AddSingleton<StripeCheckout>();
        builder.Services.AddScoped<BillingPortal>();

        // The largest body Billing accepts is a Stripe event; refuse bigger ones before reading them.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = PurchaseApi.MaxWebhookBytes);

        builder.Services.AddAuthorizationBuilder()
            // The role in the caller token, which the edge copies from the access token (at most 15 minutes old).
            .AddPolicy(BillingPortalApi.Policy, policy => policy
                .RequireClaim(CallerClaims.Method, CallerMethods.User)
                .RequireClaim(CallerClaims.OrganizationId)
                .RequireClaim(CallerClaims.Role, "owner", "admin"))
            .AddPolicy(LedgerAdminApi.Policy, policy => policy
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.Resource is HttpContext http
                && Guid.TryParse(context.User.FindFirst(CallerClaims.UserId)?.Value, out var userId)
                && http.RequestServices.GetRequiredService<IOptions<LedgerOptions>>().Value.Administrators.Contains(userId)));
        return builder;
    }
}
