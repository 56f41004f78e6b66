using Gateway.Identity.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;

namespace Gateway.Identity;

public static class Extensions
{
    public static IHostApplicationBuilder AddIdentityServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<IdentityDbContext>("identitydb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        return builder;
    }
}
