using System.Threading.Channels;

namespace Work.Storage.Postgres;

/// <summary>
/// Calls that wait at the same moment, taken together: up to <c>maxBatch</c> at a time, with <c>loops</c> batches on
/// their way at once. A lone call goes at once, so waiting together costs nothing when calls are few. The batch's
/// handler settles every call it is given, also when it fails.
/// </summary>
internal sealed class Batcher<T> : IAsyncDisposable
{
    private readonly Channel<T> _calls = Channel.CreateUnbounded<T>();
    private readonly int _maxBatch;
    private readonly Func<List<T>, Task> _handle;
    private readonly Task[] _loops;

    public Batcher(int maxBatch, int loops, Func<List<T>, Task> handle)
    {
        _maxBatch = maxBatch;
        _handle = handle;
        _loops = [.. Enumerable.Range(0, loops).Select(_ => Task.Run(RunAsync))];
    }

    /// <summary>Queues <paramref name="call"/>; false once the batcher is closed.</summary>
    public bool TryAdd(T call) => _calls.Writer.TryWrite(call);

    /// <summary>Takes no more calls and waits for those taken.</summary>
    public async ValueTask DisposeAsync()
    {
        _calls.Writer.TryComplete();
        await Task.WhenAll(_loops);
    }

    private async Task RunAsync()
    {
        var batch = new List<T>(_maxBatch);
        while (await _calls.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatch && _calls.Reader.TryRead(out var call))
            {
                batch.Add(call);
            }

            if (batch.Count > 0)
            {
                await _handle(batch);
                batch.Clear();
            }
        }
    }
}
