using Gateway.Billing.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;

namespace Gateway.Billing;

public static class Extensions
{
    public static IHostApplicationBuilder AddBillingServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<BillingDbContext>("billingdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        return builder;
    }
}
