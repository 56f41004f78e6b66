using System.Threading.Channels;

namespace Gateway.Billing.Ledger;

// Group commit, as TigerBeetle batches: operations that arrive while earlier ones are being written
// travel together in one transaction, so a hot wallet pays one commit and one row lock for many holds.
// Operations are spread over writers by a key (the wallet, where known), so one wallet's operations
// queue behind each other in one writer instead of waiting on each other's row lock in several.
// A lone operation goes straight through. If a batch fails (a concurrent duplicate id, a deadlock, a
// dropped connection), it rolled back as a whole and each operation is retried alone for its own answer.
internal sealed class GroupCommit<TRequest>
{
    private readonly Channel<(TRequest Request, TaskCompletionSource<TransferResult> Done)>[] _queues;
    private readonly Func<TRequest, Guid> _key;
    private readonly int _maxBatch;
    private readonly Func<IReadOnlyList<TRequest>, Task<TransferResult[]>> _runBatch;
    private readonly Func<TRequest, Task<TransferResult>> _runOne;

    public GroupCommit(int writers, int maxBatch, Func<TRequest, Guid> key, Func<IReadOnlyList<TRequest>, Task<TransferResult[]>> runBatch, Func<TRequest, Task<TransferResult>> runOne)
    {
        (_key, _maxBatch, _runBatch, _runOne) = (key, maxBatch, runBatch, runOne);
        _queues = new Channel<(TRequest, TaskCompletionSource<TransferResult>)>[writers];
        for (var i = 0; i < writers; i++)
        {
            var queue = _queues[i] = Channel.CreateUnbounded<(TRequest, TaskCompletionSource<TransferResult>)>(new UnboundedChannelOptions { SingleReader = true });
            _ = Task.Run(() => WriteAsync(queue.Reader));
        }
    }

    public Task<TransferResult> RunAsync(TRequest request, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TransferResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = _queues[(int)((uint)_key(request).GetHashCode() % (uint)_queues.Length)];
        if (!queue.Writer.TryWrite((request, done)))
        {
            throw new ObjectDisposedException(nameof(Ledger));
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    public void Complete()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }
    }

    private async Task WriteAsync(ChannelReader<(TRequest Request, TaskCompletionSource<TransferResult> Done)> queue)
    {
        var batch = new List<(TRequest Request, TaskCompletionSource<TransferResult> Done)>(_maxBatch);
        while (await queue.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && queue.TryRead(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 1)
            {
                try
                {
                    var results = await _runBatch(batch.Select(b => b.Request).ToList());
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Done.TrySetResult(results[i]);
                    }
                    continue;
                }
                catch (Exception)
                {
                    // Rolled back as a whole: fall through and give every operation its own transaction.
                }
            }
            await Task.WhenAll(batch.Select(RunAloneAsync));
        }
    }

    private async Task RunAloneAsync((TRequest Request, TaskCompletionSource<TransferResult> Done) item)
    {
        try
        {
            item.Done.TrySetResult(await _runOne(item.Request));
        }
        catch (Exception ex)
        {
            item.Done.TrySetException(ex);
        }
    }
}
