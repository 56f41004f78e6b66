using Gateway.Devices.Apis;
using Gateway.Devices.Consumers;
using Gateway.Devices.Fleet;
using Gateway.Devices.Infrastructure;
using Gateway.Devices.LiveEvents;
using Gateway.Devices.Presence;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Devices;

public static class Extensions
{
    // A transcript is at most 500 turns of 4,000 characters; nothing else here is large.
    private const long MaxRequestBody = 4 * 1024 * 1024;

    public static IHostApplicationBuilder AddDevicesServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<DevicesDbContext>("devicesdb");
        builder.AddMessaging(bus =>
        {
            // Every instance's own auto-deleted queue, for the sockets it holds; one at a time keeps ids in order.
            bus.AddConsumer<LiveEventBroadcaster>().Endpoint(endpoint =>
            {
                endpoint.Temporary = true;
                // Its own name too: a temporary queue is exclusive to the connection that declared it.
                endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
                endpoint.ConcurrentMessageLimit = 1;
            });
            // One durable queue for all instances, so the replay log misses nothing.
            bus.AddConsumer<LiveEventRecorder>().Endpoint(endpoint => endpoint.ConcurrentMessageLimit = 1);
            bus.AddConfigureEndpointsCallback((_, endpoint) => endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2_000, 10_000)));
        });
        builder.AddOutbox<DevicesDbContext>();
        builder.AddRedis();
        builder.AddCallerAuthentication();
        builder.Services.AddAuthorizationBuilder().AddCallerPolicies();

        builder.Services.AddOptions<FleetOptions>().BindConfiguration(FleetOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LiveEventOptions>().BindConfiguration(LiveEventOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddScoped<DeviceRegistrar>();
        builder.Services.AddSingleton<PresenceStore>();
        builder.Services.AddScoped<PresenceTracker>();
        builder.Services.AddHostedService<PresenceSweeper>();
        builder.Services.AddSingleton<LiveEventLog>();
        builder.Services.AddSingleton<LiveEventHub>();
        builder.Services.AddSingleton<LiveEventStream>();

        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBody);
        return builder;
    }
}
