using System.Threading.Channels;

namespace Gateway.Billing.Ledger;

// Group commit, as TigerBeetle batches: operations that arrive while earlier ones are being written
// travel together in one transaction, so they share one commit (one WAL flush) instead of paying one
// each. All operations wait in one queue; each of a few writers takes everything queued (up to a
// limit) as its next batch, so while one batch commits the next one fills. A lone operation goes
// straight through. If a batch fails (a concurrent duplicate id, a deadlock, a dropped connection), it
// rolled back as a whole and each operation is retried alone for its own answer.
internal sealed class GroupCommit<TRequest>
{
    private readonly Channel<(TRequest Request, TaskCompletionSource<TransferResult> Done)> _queue =
        Channel.CreateUnbounded<(TRequest, TaskCompletionSource<TransferResult>)>();
    private readonly int _maxBatch;
    private readonly Func<IReadOnlyList<TRequest>, Task<TransferResult[]>> _runBatch;
    private readonly Func<TRequest, Task<TransferResult>> _runOne;

    public GroupCommit(int writers, int maxBatch, Func<IReadOnlyList<TRequest>, Task<TransferResult[]>> runBatch, Func<TRequest, Task<TransferResult>> runOne)
    {
        (_maxBatch, _runBatch, _runOne) = (maxBatch, runBatch, runOne);
        // The writers belong to no caller's trace: without this they would keep, for the process's life, the Activity
        // of whichever request or message first needed the ledger, and every batch's database spans would join it.
        using (ExecutionContext.SuppressFlow())
        {
            for (var i = 0; i < writers; i++)
            {
                _ = Task.Run(WriteAsync);
            }
        }
    }

    public Task<TransferResult> RunAsync(TRequest request, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TransferResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((request, done)))
        {
            throw new ObjectDisposedException(nameof(Ledger));
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    public void Complete() => _queue.Writer.TryComplete();

    private async Task WriteAsync()
    {
        var batch = new List<(TRequest Request, TaskCompletionSource<TransferResult> Done)>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var item))
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
