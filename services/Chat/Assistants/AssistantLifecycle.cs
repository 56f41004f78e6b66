using Gateway.Chat.Infrastructure;
using Gateway.Contracts;
using Gateway.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// What a user's assistant is doing and the one place it changes: start, stop, the supervisor's look (ready, crashed,
// idle), removal. Each change runs with the user's row locked (a transaction-scoped advisory lock, so that two requests,
// or a request and the supervisor, never decide at once), and its AssistantStatusChanged is committed with it.
public sealed class AssistantLifecycle(
    ChatDbContext db, IAssistantRuntime runtime, AssistantSecrets secrets, TimeProvider clock, IOptions<AssistantOptions> options,
    ILogger<AssistantLifecycle> logger)
{
    // Keeps this lock apart from any other advisory lock in the database.
    private const int LockClass = 0x41535354;

    public async Task<Assistant?> FindAsync(Guid userId, CancellationToken cancellationToken) =>
        await db.Assistants.AsNoTracking().SingleOrDefaultAsync(a => a.UserId == userId, cancellationToken);

    // Idempotent: a starting or running assistant stays as it is. Null when it is stopping (start it once it has stopped).
    public Task<Assistant?> StartAsync(Guid userId, AssistantSettings settings, CancellationToken cancellationToken) =>
        ChangeAsync<Assistant?>(userId, async (assistant, now) =>
        {
            if (assistant.IsUp)
            {
                return assistant;
            }
            if (assistant.Status == AssistantStatus.Stopping)
            {
                return null;
            }
            assistant.Settings = settings;
            assistant.Crashes = 0;
            assistant.LastUsedAt = now;
            await LaunchAsync(assistant, now, reason: null, cancellationToken);
            return assistant;
        }, cancellationToken);

    // Idempotent: a stopped or failed assistant is stopped (its failure's reason cleared).
    public async Task<Assistant> StopAsync(Guid userId, string? reason, CancellationToken cancellationToken)
    {
        var stopping = await ChangeAsync(userId, (assistant, now) =>
        {
            Record(assistant.Become(assistant.IsUp || assistant.Status == AssistantStatus.Stopping ? AssistantStatus.Stopping : AssistantStatus.Stopped, reason, now));
            return Task.FromResult(assistant.Status == AssistantStatus.Stopping);
        }, cancellationToken);
        if (stopping)
        {
            await runtime.StopAsync(userId, CancellationToken.None);
        }
        return await ChangeAsync(userId, (assistant, now) =>
        {
            if (assistant.Status == AssistantStatus.Stopping)
            {
                assistant.RestartAt = null;
                Record(assistant.Become(AssistantStatus.Stopped, reason, now));
            }
            return Task.FromResult(assistant);
        }, cancellationToken);
    }

    // The account is gone: its assistant's process and workspace too. Idempotent.
    // Under the row's lock, so that the supervisor cannot start it again meanwhile.
    public Task RemoveAsync(Guid userId, CancellationToken cancellationToken) =>
        ChangeAsync(userId, async (assistant, _) =>
        {
            await runtime.RemoveAsync(userId, cancellationToken);
            db.Assistants.Remove(assistant);
            return 0;
        }, cancellationToken);

    // Where a running assistant's tools answer, with this start's secret, and its settings; null when it is not running.
    // Counts as use (the idle clock starts again).
    public async Task<(Uri Endpoint, string Secret, AssistantSettings Settings)?> ToolsAsync(Guid userId, CancellationToken cancellationToken)
    {
        var assistant = await FindAsync(userId, cancellationToken);
        if (assistant?.Status != AssistantStatus.Running || await ObserveAsync(userId, cancellationToken) is not { State: RuntimeState.Running, Endpoint: { } endpoint })
        {
            return null;
        }
        await db.Assistants.Where(a => a.UserId == userId)
            .ExecuteUpdateAsync(a => a.SetProperty(x => x.LastUsedAt, clock.GetUtcNow()), cancellationToken);
        return (endpoint, secrets.For(userId, assistant.StartId), assistant.Settings);
    }

    // A runtime that cannot say (a cluster's API server unreachable) leaves the turn a plain chat rather than failing it;
    // the supervisor, which decides, sees the failure itself.
    private async Task<RuntimeStatus?> ObserveAsync(Guid userId, CancellationToken cancellationToken)
    {
        try
        {
            return await runtime.GetAsync(userId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not tell whether the assistant of {UserId} runs; the turn goes without its tools", userId);
            return null;
        }
    }

    // The supervisor's look at one assistant that should be up (ready, crashed, gone, idle, or due to restart) or is
    // stopping.
    public Task CheckAsync(Guid userId, CancellationToken cancellationToken) =>
        ChangeAsync(userId, async (assistant, now) =>
        {
            var settings = options.Value;
            if (assistant.Status == AssistantStatus.Stopping)
            {
                // A stop whose Chat went away midway: finished here once the runtime has let it go (or after StartTimeout).
                var state = (await runtime.GetAsync(userId, cancellationToken)).State;
                if (state is RuntimeState.Stopped or RuntimeState.Exited || now - assistant.ChangedAt >= settings.StartTimeout)
                {
                    await runtime.StopAsync(userId, cancellationToken);
                    Record(assistant.Become(AssistantStatus.Stopped, assistant.Reason, now));
                }
                return 0;
            }
            if (!assistant.IsUp)
            {
                return 0;
            }
            if (assistant.RestartAt is { } restartAt)
            {
                if (now >= restartAt)
                {
                    await LaunchAsync(assistant, now, assistant.Reason, cancellationToken);
                }
                return 0;
            }
            var observed = await runtime.GetAsync(userId, cancellationToken);
            switch (observed.State)
            {
                case RuntimeState.Running when assistant.Status == AssistantStatus.Starting:
                    Record(assistant.Become(AssistantStatus.Running, null, now));
                    logger.LogInformation("The assistant of {UserId} is running, {Seconds:0.0} s after its start", userId, (now - assistant.StartedAt!.Value).TotalSeconds);
                    break;
                case RuntimeState.Running when now - assistant.LastUsedAt >= settings.IdleAfter:
                    await runtime.StopAsync(userId, cancellationToken);
                    Record(assistant.Become(AssistantStatus.Stopped, $"Stopped after {settings.IdleMinutes:0.##} minutes without use.", now));
                    break;
                case RuntimeState.Starting when now - assistant.StartedAt >= settings.StartTimeout:
                    await runtime.StopAsync(userId, cancellationToken);
                    Crashed(assistant, $"It did not answer within {settings.StartTimeout.TotalSeconds:0} s of its start.", now);
                    break;
                case RuntimeState.Exited:
                    await runtime.StopAsync(userId, cancellationToken); // its remains go; the workspace stays
                    Crashed(assistant, observed.Reason ?? "Its process ended.", now);
                    break;
                case RuntimeState.Stopped:
                    // Up here but not in the runtime (this Chat restarted, and its processes ended with it): started again.
                    await LaunchAsync(assistant, now, assistant.Reason, cancellationToken);
                    break;
            }
            return 0;
        }, cancellationToken);

    // Running at this endpoint when the supervisor asked its /health, and no answer came (AssistantSupervisor): crashed,
    // as if its process had ended, unless it has changed meanwhile.
    public Task NotAnsweringAsync(Guid userId, Uri endpoint, CancellationToken cancellationToken) =>
        ChangeAsync(userId, async (assistant, now) =>
        {
            if (assistant.Status == AssistantStatus.Running && (await runtime.GetAsync(userId, cancellationToken)).Endpoint == endpoint)
            {
                await runtime.StopAsync(userId, cancellationToken);
                Crashed(assistant, $"It stopped answering: no answer to its health check within {options.Value.HealthTimeout.TotalSeconds:0.#} s.", now);
            }
            return 0;
        }, cancellationToken);

    // Restarted after FirstRestartDelay, doubling with each crash in a row; failed after MaxCrashes.
    private void Crashed(Assistant assistant, string reason, DateTimeOffset now)
    {
        var settings = options.Value;
        if (assistant.StartedAt is { } started && now - started >= settings.CrashFreeAfter)
        {
            assistant.Crashes = 0;
        }
        assistant.Crashes++;
        logger.LogWarning("The assistant of {UserId} crashed ({Crashes} in a row): {Reason}", assistant.UserId, assistant.Crashes, reason);
        if (assistant.Crashes >= settings.MaxCrashes)
        {
            Record(assistant.Become(AssistantStatus.Failed, $"It crashed {assistant.Crashes} times in a row; the last time: {reason}", now));
            return;
        }
        var delay = settings.FirstRestartDelay * Math.Pow(2, assistant.Crashes - 1);
        assistant.RestartAt = now + delay;
        Record(assistant.Become(AssistantStatus.Starting, $"Restarting in {delay.TotalSeconds:0.#} s after a crash: {reason}", now));
    }

    // A new start (a new secret); a runtime that refuses is a failure with its reason.
    private async Task LaunchAsync(Assistant assistant, DateTimeOffset now, string? reason, CancellationToken cancellationToken)
    {
        assistant.StartId = Guid.NewGuid();
        assistant.StartedAt = now;
        assistant.RestartAt = null;
        try
        {
            await runtime.StartAsync(secrets.Launch(assistant), cancellationToken);
            Record(assistant.Become(AssistantStatus.Starting, reason, now));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "The assistant of {UserId} could not be started", assistant.UserId);
            Record(assistant.Become(AssistantStatus.Failed, $"It could not be started: {ex.Message}", now));
        }
    }

    private void Record(AssistantStatusChanged? changed)
    {
        if (changed is not null)
        {
            db.AddToOutbox(changed);
        }
    }

    // Runs one change with the user's row locked, creating the row (stopped) the first time, and commits it.
    private async Task<T> ChangeAsync<T>(Guid userId, Func<Assistant, DateTimeOffset, Task<T>> change, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({LockClass}, hashtext({userId.ToString()}))", cancellationToken);
        var now = clock.GetUtcNow();
        var assistant = await db.Assistants.SingleOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        if (assistant is null)
        {
            assistant = new Assistant { UserId = userId, LastUsedAt = now };
            assistant.Become(AssistantStatus.Stopped, null, now);
            db.Assistants.Add(assistant);
        }
        var result = await change(assistant, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
