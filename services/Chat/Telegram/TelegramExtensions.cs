using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Telegram;

public static class TelegramExtensions
{
    public static IHostApplicationBuilder AddTelegram(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramOptions>().BindConfiguration(TelegramOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramOptionsValidator>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it replaces the defaults' handler.
        // Every Bot API call is a POST: a retry after a timeout could send an answer twice, so none is retried here
        // (Telegram.Bot itself waits out a 429's retry_after).
        builder.Services.AddHttpClient(TelegramBot.HttpClientName)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(resilience => resilience.Retry.DisableForUnsafeHttpMethods());
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton<TelegramBot>();
        builder.Services.AddSingleton<TelegramTurn>();
        builder.Services.AddScoped<TelegramConversation>();
        builder.Services.AddSingleton<TelegramInbox>();
        builder.Services.AddHostedService(services => services.GetRequiredService<TelegramInbox>());
        builder.Services.AddHostedService<TelegramWebhook>();
        return builder;
    }
}
