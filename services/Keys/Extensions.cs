using Gateway.Keys.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;

namespace Gateway.Keys;

public static class Extensions
{
    public static IHostApplicationBuilder AddKeysServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<KeysDbContext>("keysdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        return builder;
    }
}
