using System.Threading.Channels;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Upstream;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Telegram;

// Answers the webhook's updates in the background: the webhook only stores an update and answers 200 at once, because
// Telegram sends an update again when its webhook is slow, and a model's answer can take minutes. Each chat's updates
// are answered in the order they came, at most MaxConcurrentTurns chats at once. Every SweepEvery, updates left
// unanswered (their instance crashed, Telegram could not be reached) are taken up again, and old rows are dropped.
public sealed class TelegramInbox(
    IServiceScopeFactory scopes, TelegramBot bot, IOptions<TelegramOptions> options, IOptions<ChatServiceOptions> chat,
    TimeProvider clock, ILogger<TelegramInbox> logger) : BackgroundService
{
    // Telegram keeps an undelivered update for 24 hours: a retry can come no later, so no row is needed longer.
    private static readonly TimeSpan KeepUpdates = TimeSpan.FromHours(25);
    // Time for the instance that stored an update to take it up before a sweep does.
    private static readonly TimeSpan SweepAfter = TimeSpan.FromMinutes(1);

    private readonly Channel<(long UpdateId, long ChatId)> _received = Channel.CreateUnbounded<(long, long)>();
    private readonly SemaphoreSlim _turns = new(options.Value.MaxConcurrentTurns);
    // Each chat's last update in hand: the next one of that chat waits for it.
    private readonly Dictionary<long, Task> _chats = [];

    public void Received(long updateId, long chatId) => _received.Writer.TryWrite((updateId, chatId));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!bot.Enabled)
        {
            return;
        }
        var sweeping = SweepAsync(stoppingToken);
        try
        {
            await foreach (var (updateId, chatId) in _received.Reader.ReadAllAsync(stoppingToken))
            {
                Dispatch(updateId, chatId, stoppingToken);
            }
        }
        finally
        {
            await sweeping;
        }
    }

    // Lets the answers in hand finish (their turns are cancelled with the stopping token, and what they produced is
    // charged and stored), so that none runs on into a disposed container.
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Task[] inHand;
        lock (_chats)
        {
            inHand = [.. _chats.Values];
        }
        try
        {
            await Task.WhenAll(inHand).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host stops waiting: what is still in hand is taken up again once its claim lapses.
        }
    }

    private void Dispatch(long updateId, long chatId, CancellationToken stoppingToken)
    {
        lock (_chats)
        {
            var previous = _chats.GetValueOrDefault(chatId) ?? Task.CompletedTask;
            var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _chats[chatId] = handled.Task;
            _ = HandleAsync(previous, updateId, chatId, handled, stoppingToken);
        }
    }

    private async Task HandleAsync(Task previous, long updateId, long chatId, TaskCompletionSource handled, CancellationToken stoppingToken)
    {
        try
        {
            await previous;
            await _turns.WaitAsync(stoppingToken);
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<TelegramConversation>().HandleAsync(updateId, stoppingToken);
            }
            finally
            {
                _turns.Release();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the update stays claimed and unanswered, and is taken up again once its claim has lapsed.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Telegram update {UpdateId} could not be answered; it is tried again after {Lease}",
                updateId, TelegramConversation.ClaimLease(chat.Value));
        }
        finally
        {
            lock (_chats)
            {
                if (_chats.GetValueOrDefault(chatId) == handled.Task)
                {
                    _chats.Remove(chatId);
                }
            }
            handled.SetResult();
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepEvery, clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
                var now = clock.GetUtcNow();
                var (receivedBefore, claimedBefore) = (now - SweepAfter, now - TelegramConversation.ClaimLease(chat.Value));
                var left = await db.TelegramUpdates.AsNoTracking()
                    .Where(u => u.HandledAt == null && u.ReceivedAt < receivedBefore && (u.ClaimedAt == null || u.ClaimedAt < claimedBefore))
                    .OrderBy(u => u.ReceivedAt)
                    .Select(u => new { u.UpdateId, u.ChatId })
                    .Take(1000)
                    .ToListAsync(stoppingToken);
                foreach (var update in left)
                {
                    Received(update.UpdateId, update.ChatId);
                }
                var keptAfter = now - KeepUpdates;
                await db.TelegramUpdates.Where(u => u.ReceivedAt < keptAfter).ExecuteDeleteAsync(stoppingToken);
                await db.TelegramConnectTokens.Where(t => t.ExpiresAt < now).ExecuteDeleteAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("The Telegram inbox's sweep failed: {Reason}", ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
