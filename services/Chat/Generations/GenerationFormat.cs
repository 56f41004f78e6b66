using Gateway.Chat.Apis;
using Gateway.Chat.Infrastructure;
using Gateway.Chat.Metering;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using Gateway.ServiceDefaults.Outbox;
using MassTransit;

namespace Gateway.Chat.Generations;

// One generation as the metered path delivers it, whatever its kind: stored as running once its flat price is held,
// its output checked when the model ends (charged only when the check passes), and its life told to its owner's live
// sockets. Icons and pages are this class with another GenerationKind; each API words the answer (TResult) its way.
public sealed class GenerationFormat<TResult>(GenerationRun run, GenerationResults<TResult> results) : TurnFormat<Generated, TResult>
{
    private Generation? _generation;
    private string? _output;
    private int _characters;
    private DateTimeOffset _lastProgress;
    private Task _progress = Task.CompletedTask;

    public Guid Id => _generation?.Id ?? Guid.Empty;

    public override string Kind => run.Kind.UsageKind;

    public override string Endpoint => run.Kind.Endpoint;

    public override TResult Refused(Refusal refusal) => results.Refused(refusal);

    public override TResult Answered(Generated answer) => results.Answered(answer);

    public override TResult Streamed(EventStreamResult stream) => results.Streamed is { } streamed ? streamed(stream) : base.Streamed(stream);

    public override async Task HeldAsync(Guid reservationId)
    {
        var now = run.Clock.GetUtcNow();
        _generation = new Generation { UserId = run.UserId, Kind = run.Kind.Name, Prompt = run.Prompt, Model = run.Model, CreatedAt = now };
        _lastProgress = now;
        run.Db.Generations.Add(_generation);
        run.Db.AddToOutbox(new GenerationStarted(_generation.Id, run.UserId, run.Kind.Name, now));
        await run.Db.SaveChangesAsync(CancellationToken.None);
    }

    public override string? Undelivered(UpstreamCall call)
    {
        if (call.End != CallEnd.Completed)
        {
            return call.End == CallEnd.Failed ? call.FailureDetail! : $"The caller left before the {run.Kind.UsageKind} was written.";
        }
        (_output, var problem) = run.Kind.Check(call.Text.Replace('\0', '\uFFFD'));
        return problem;
    }

    public override Refusal NotCharged(UpstreamCall call, string why) =>
        new(call.End == CallEnd.Failed ? call.FailureStatus : StatusCodes.Status502BadGateway, "Generation failed", $"{why} Nothing was charged.");

    public override async Task DiscardedAsync(string why)
    {
        if (_generation is null)
        {
            return;
        }
        await _progress;
        // Releasing the hold cleared what the context tracked.
        if (run.Db.Entry(_generation).State == Microsoft.EntityFrameworkCore.EntityState.Detached)
        {
            run.Db.Generations.Attach(_generation);
        }
        var now = run.Clock.GetUtcNow();
        _generation.Fail(why, now);
        run.Db.AddToOutbox(new GenerationFailed(_generation.Id, run.UserId, run.Kind.Name, why, now));
        await run.Db.SaveChangesAsync(CancellationToken.None);
    }

    // Staged with the usage, so the generation is completed exactly when it is charged.
    public override Generated Answer(SettledTurn turn)
    {
        var generation = _generation!;
        var now = run.Clock.GetUtcNow();
        generation.Complete(_output!, turn.Usage.Credits, now);
        run.Db.AddToOutbox(new GenerationCompleted(generation.Id, run.UserId, run.Kind.Name, _output!.Length, turn.Usage.Credits, now));
        return new Generated(generation.Id, run.Kind.Name, _output!, turn.Usage.Credits, turn.Balance, generation.CreatedAt, now);
    }

    public override void Read(AnswerPiece piece)
    {
        if (piece is TextPiece text)
        {
            Progressed(text.Text);
        }
    }

    public override Task<bool> StartAsync(EventStream events, Guid id, long created, string model) =>
        events.SendAsync("started", new GenerationStartedEvent(Id, run.Kind.Name, GenerationStatus.Running, _generation!.CreatedAt));

    public override async Task<bool> SendAsync(EventStream events, AnswerPiece piece)
    {
        if (piece is not TextPiece text)
        {
            return true;
        }
        Progressed(text.Text);
        return await events.SendAsync("code", new { text = text.Text });
    }

    public override Task EndAsync(EventStream events, Generated answer, Refusal? failure) => events.EndAsync("done", answer.Done);

    public override Task NotChargedAsync(EventStream events, Refusal refusal) =>
        events.EndAsync("error", new { status = refusal.Status, detail = refusal.Detail });

    public override async Task ReplayAsync(EventStream events, Generated stored)
    {
        await events.SendAsync("started", new GenerationStartedEvent(stored.Id, stored.Kind, stored.Done.Status, stored.CreatedAt));
        await events.SendAsync("code", new { text = stored.Output });
        await events.EndAsync("done", stored.Done);
    }

    // At most one progress event per interval, published off the answer's path: one still on its way is not waited for.
    private void Progressed(string text)
    {
        _characters += text.Length;
        var now = run.Clock.GetUtcNow();
        if (_generation is null || now - _lastProgress < run.ProgressInterval || !_progress.IsCompleted)
        {
            return;
        }
        _lastProgress = now;
        var progressed = new GenerationProgressed(_generation.Id, run.UserId, run.Kind.Name, _characters, now);
        _progress = PublishAsync(progressed);
    }

    private async Task PublishAsync(GenerationProgressed progressed)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await run.Bus.Publish(progressed, timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A progress event lost costs nothing: the next one, or the end, says more.
        }
    }
}

// Who asked for what, and what the format needs to store and tell it.
public sealed record GenerationRun(
    GenerationKind Kind, string Prompt, Guid UserId, string Model, ChatDbContext Db, IBus Bus, TimeProvider Clock, TimeSpan ProgressInterval);

// How an endpoint words a generation's ways out.
public sealed record GenerationResults<TResult>(Func<Refusal, TResult> Refused, Func<Generated, TResult> Answered, Func<EventStreamResult, TResult>? Streamed = null);

// A generation delivered and charged: what every generation endpoint words its answer from (and an Idempotency-Key's
// stored answer).
public sealed record Generated(Guid Id, string Kind, string Output, long Credits, long Balance, DateTimeOffset CreatedAt, DateTimeOffset CompletedAt)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public GenerationDone Done => new(Id, Kind, GenerationStatus.Completed, Credits, Balance, CompletedAt);
}

public sealed record GenerationStartedEvent(Guid Id, string Format, string Status, DateTimeOffset CreatedAt);

public sealed record GenerationDone(Guid Id, string Format, string Status, long Credits, long? Balance, DateTimeOffset? CompletedAt);
