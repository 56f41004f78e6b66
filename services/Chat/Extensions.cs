using Gateway.Chat.Infrastructure;
using Gateway.ServiceDefaults;
using MassTransit;

namespace Gateway.Chat;

public static class Extensions
{
    public static IHostApplicationBuilder AddChatServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<ChatDbContext>("chatdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        return builder;
    }
}
