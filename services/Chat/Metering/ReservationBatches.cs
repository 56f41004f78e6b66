using System.Diagnostics;
using System.Threading.Channels;
using Gateway.Chat.Upstream;
using Gateway.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Metering;

// Concurrent requests' reservations share round trips to Billing, as Billing's ledger shares commits: a few messages
// travel at once, and each next one carries every reservation asked for while the earlier ones travelled (up to
// ReserveCreditsBatch.MaxHolds holds). A lone request goes at once. One message for many requests instead of one
// each is most of what a reservation costs the broker and both services (bench/Billing.Bench). Billing answers each
// hold of a batch as if it had been asked alone, so who shares a message changes no answer; a request Billing could
// not read (an amount of zero or less) travels alone, so that its Fault is its own. A message is traced as part of
// the first request in it (all of a lone request's), with links to the others'.
public sealed class ReservationBatches : IDisposable
{
    private static readonly ActivitySource Traces = new("Gateway.Chat");

    // Messages in flight at once. 32 concurrent callers then share messages about 8 at a time, where a reservation's
    // cost had stopped falling: k holds a message from 32 / k callers made 1,427, 3,949 and 4,233 reservations/s for
    // k = 1, 4 and 8 (bench/Billing.Bench's service run, 2026-12-07).
    private const int InFlight = 4;

    private readonly Channel<Waiting> _queue = Channel.CreateUnbounded<Waiting>();
    private readonly IRequestClient<ReserveCreditsBatch> _client;
    private readonly IOptions<ChatServiceOptions> _options;
    private readonly TimeProvider _clock;

    public ReservationBatches(IBus bus, IOptions<ChatServiceOptions> options, TimeProvider clock)
    {
        (_client, _options, _clock) = (bus.CreateRequestClient<ReserveCreditsBatch>(), options, clock);
        using (ExecutionContext.SuppressFlow()) // the senders belong to no request's trace
        {
            for (var i = 0; i < InFlight; i++)
            {
                _ = Task.Run(SendAsync);
            }
        }
    }

    // Billing's answer to the message these holds travelled in (other requests' holds may be in it too), or why there is
    // none: a RequestTimeoutException when it did not come within Reservations.Timeout of asking.
    public Task<CreditsReservedBatch> ReserveAsync(IReadOnlyList<ReserveCredits> holds, CancellationToken cancellationToken)
    {
        var timeout = _options.Value.Reservations.Timeout;
        if (holds.Any(hold => hold.Amount <= 0))
        {
            return RequestAsync(holds, timeout).WaitAsync(cancellationToken);
        }
        var waiting = new Waiting(holds, _clock.GetUtcNow() + timeout, Activity.Current?.Context ?? default,
            new(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(waiting))
        {
            throw new ObjectDisposedException(nameof(ReservationBatches));
        }
        return waiting.Answer.Task.WaitAsync(cancellationToken);
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private async Task SendAsync()
    {
        var batch = new List<Waiting>();
        Waiting? next = null; // taken from the queue, but too many holds for the last message
        while (next is not null || await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            var holds = 0;
            while (next is not null || _queue.Reader.TryRead(out next))
            {
                if (batch.Count > 0 && holds + next.Holds.Count > ReserveCreditsBatch.MaxHolds)
                {
                    break;
                }
                batch.Add(next);
                holds += next.Holds.Count;
                next = null;
            }
            if (batch.Count == 0)
            {
                continue; // another sender took what woke this one
            }

            // Nobody waits longer than their own timeout: the message's is the shortest left among its requests.
            var left = batch.Min(waiting => waiting.Deadline) - _clock.GetUtcNow();
            using var span = Traces.StartActivity("reserve credits", ActivityKind.Internal, batch[0].Trace,
                links: batch.Skip(1).Where(waiting => waiting.Trace != default).Select(waiting => new ActivityLink(waiting.Trace)));
            try
            {
                var answer = left > TimeSpan.Zero
                    ? await RequestAsync(batch.SelectMany(waiting => waiting.Holds).ToList(), left)
                    : throw new RequestTimeoutException("The reservations waited their whole timeout to be sent.");
                batch.ForEach(waiting => waiting.Answer.TrySetResult(answer));
            }
            catch (Exception ex)
            {
                batch.ForEach(waiting => waiting.Answer.TrySetException(ex));
            }
        }
    }

    // Not written to the broker's disk, and living only as long as it is waited for: a request lost in a broker restart
    // times out and is cancelled like any other, and Billing does not apply one that reaches it later. The token ends
    // the wait, MassTransit's timer (a second later) only backs it up: the timer fails the response but does not stop a
    // send already waiting for the broker's confirm, and the response waits for the send: a request waited as long as the
    // broker was stalled (FaultTests), and after a broker restart on CI one outwaited its client's minute. Cancelling the
    // request cancels the send too.
    private async Task<CreditsReservedBatch> RequestAsync(IReadOnlyList<ReserveCredits> holds, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout, _clock);
        var requestId = Guid.Empty;
        try
        {
            var response = await _client.GetResponse<CreditsReservedBatch>(
                new ReserveCreditsBatch(holds),
                request =>
                {
                    requestId = request.RequestId;
                    request.UseExecute(context =>
                    {
                        context.Durable = false;
                        context.TimeToLive = timeout;
                    });
                },
                deadline.Token, RequestTimeout.After(ms: (int)Math.Ceiling(timeout.TotalMilliseconds) + 1000));
            return response.Message;
        }
        catch (Exception ex) when (deadline.IsCancellationRequested && ex is not RequestTimeoutException)
        {
            throw new RequestTimeoutException(requestId.ToString(), ex);
        }
    }

    private sealed record Waiting(IReadOnlyList<ReserveCredits> Holds, DateTimeOffset Deadline, ActivityContext Trace, TaskCompletionSource<CreditsReservedBatch> Answer);
}
