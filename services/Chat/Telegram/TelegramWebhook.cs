namespace Gateway.Chat.Telegram;

// Tells Telegram where to deliver updates (setWebhook, with the secret it must send back) when Chat starts with a bot
// token; Telegram unreachable is retried in the background (up to a minute apart), never a failed start.
public sealed class TelegramWebhook(TelegramBot bot, TimeProvider clock, ILogger<TelegramWebhook> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!bot.Enabled)
        {
            logger.LogInformation("Telegram is off: Chat:Telegram:BotToken is not set");
            return;
        }
        for (var delay = TimeSpan.FromSeconds(1); !stoppingToken.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerMinute)))
        {
            try
            {
                await bot.RegisterWebhookAsync(stoppingToken);
                logger.LogInformation("Telegram webhook registered for @{Bot}", await bot.UsernameAsync(stoppingToken));
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not register the Telegram webhook ({Reason}); trying again in {Delay}", ex.Message, delay);
            }
            await Task.Delay(delay, clock, stoppingToken);
        }
    }
}
