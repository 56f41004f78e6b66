using Gateway.Devices.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;

namespace Gateway.Devices;

public static class Extensions
{
    public static IHostApplicationBuilder AddDevicesServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<DevicesDbContext>("devicesdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddRedis();
        return builder;
    }
}
