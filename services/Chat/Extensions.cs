using Gateway.Chat.Assistants;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.Chat.Telegram;
using Gateway.Chat.Upstream;
using Gateway.ServiceDefaults;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Gateway.Chat;

public static class Extensions
{
    // A /v1 conversation carries its whole history (the edge allows the same 2 MiB); an icon prompt is far smaller.
    private const long MaxRequestBody = 2 * 1024 * 1024;

    public static IHostApplicationBuilder AddChatServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgresDbContext<ChatDbContext>("chatdb");
        builder.AddMessaging(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddOutbox<ChatDbContext>();
        builder.AddCallerAuthentication();

        builder.Services.AddOptions<ChatServiceOptions>().BindConfiguration(ChatServiceOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ChatServiceOptions>, ChatServiceOptionsValidator>();

        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<ProviderKeys>();
        builder.Services.AddHttpClient(ProviderKeys.KeysClient, client => client.Timeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton<TokenCounter>();
        builder.Services.AddSingleton<ReservationBatches>();
        builder.Services.AddScoped<CreditReservations>();
        builder.Services.AddSingleton<HoldRenewals>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HoldRenewals>());
        builder.Services.AddSingleton<StandbyHolds>();
        builder.Services.AddHostedService(services => services.GetRequiredService<StandbyHolds>());
        builder.Services.AddScoped<IdempotencyKeys>();
        builder.Services.AddScoped<CreditMeter>();
        builder.Services.AddScoped<MeteredTurns>();
        builder.AddTelegram();

        builder.AddAssistants();

        // Ahead of the default writer (the first that can write a response wins): /v1/* problems in OpenAI's shape,
        // the framework's too (no such route, wrong method, a body of the wrong kind).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());

        // Refuse big bodies before reading them, whoever calls (Kestrel's own default is 30 MB).
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBody);
        return builder;
    }

    // Users' assistants (Assistants/): their lifecycle, the runtime they run in, and what a chat turn gets from them.
    private static void AddAssistants(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AssistantOptions>().BindConfiguration(AssistantOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AssistantOptions>, AssistantOptionsValidator>();
        // Local processes (the default) or a cluster (Chat:Assistants:Runtime = Kubernetes).
        builder.Services.AddSingleton<IAssistantRuntime>(services => services.GetRequiredService<IOptions<AssistantOptions>>().Value.Runtime switch
        {
            AssistantRuntimeKind.Kubernetes => ActivatorUtilities.CreateInstance<KubernetesRuntime>(services),
            _ => ActivatorUtilities.CreateInstance<LocalProcessRuntime>(services),
        });
        builder.Services.AddSingleton<AssistantSecrets>();
        builder.Services.AddScoped<AssistantLifecycle>();
        builder.Services.AddScoped<AssistantTurns>();
        builder.Services.AddSingleton<OwnerSettings>();
        builder.Services.AddHttpClient(OwnerSettings.Client, client => client.Timeout = TimeSpan.FromSeconds(5));
        // The tool API is a local process (or a pod): no retries (a write is not repeated behind the model's back).
        builder.Services.AddHttpClient(AssistantTools.ClientName);
        builder.Services.AddSingleton<AssistantSupervisor>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AssistantSupervisor>());
    }
}
