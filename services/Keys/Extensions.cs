using Gateway.Keys.ApiKeys;
using Gateway.Keys.Apis;
using Gateway.Keys.Infrastructure;
using Gateway.Keys.Vault;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Keys;

public static class Extensions
{
    // A vault value is at most 4 KB; JSON escaping can grow it a few times, nothing else here is large.
    private const long MaxRequestBody = 64 * 1024;

    public static IHostApplicationBuilder AddKeysServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<KeysDbContext>("keysdb");
        builder.AddMessaging(bus =>
        {
            bus.AddConsumers(typeof(Extensions).Assembly);
            // A database blip must not send a deleted user's revocations to the error queue.
            bus.AddConfigureEndpointsCallback((_, endpoint) => endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 2_000, 10_000, 30_000)));
        });
        builder.AddOutbox<KeysDbContext>();
        builder.AddCallerAuthentication();
        builder.Services.AddAuthorizationBuilder().AddCallerPolicies();

        builder.Services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<VaultOptions>().BindConfiguration(VaultOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddScoped<ApiKeyIssuer>();
        builder.Services.AddSingleton<SecretCipher>();

        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBody);
        return builder;
    }
}
