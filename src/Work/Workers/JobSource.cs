using System.Threading.Channels;

namespace Work.Workers;

/// <summary>
/// Items for <c>PerformReceive</c>: each read hands one item to exactly one reader, also with several competing
/// readers.
/// </summary>
public abstract class JobSource
{
    /// <summary>A source over a channel; competing readers are the channel's own.</summary>
    public static JobSource From<T>(ChannelReader<T> reader) => new ChannelSource<T>(reader ?? throw new ArgumentNullException(nameof(reader)));

    /// <summary>A source over an async sequence, read by one reader at a time.</summary>
    public static JobSource From<T>(IAsyncEnumerable<T> items) => new EnumerableSource<T>(items ?? throw new ArgumentNullException(nameof(items)));

    /// <summary>Reads the next item; <c>HasItem</c> is false when the source has completed.</summary>
    internal abstract ValueTask<(bool HasItem, object? Item)> ReadAsync(CancellationToken cancellationToken);

    private sealed class ChannelSource<T>(ChannelReader<T> reader) : JobSource
    {
        internal override async ValueTask<(bool HasItem, object? Item)> ReadAsync(CancellationToken cancellationToken)
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                if (reader.TryRead(out var item))
                {
                    return (true, item);
                }
            }

            return (false, null);
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never used holds nothing to dispose.")]
    private sealed class EnumerableSource<T>(IAsyncEnumerable<T> items) : JobSource
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private IAsyncEnumerator<T>? _enumerator;
        private bool _done;

        internal override async ValueTask<(bool HasItem, object? Item)> ReadAsync(CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                if (_done)
                {
                    return (false, null);
                }

                // The first reader's token governs the enumeration; later readers are only gated.
                _enumerator ??= items.GetAsyncEnumerator(cancellationToken);
                if (await _enumerator.MoveNextAsync())
                {
                    return (true, _enumerator.Current);
                }

                _done = true;
                await _enumerator.DisposeAsync();
                return (false, null);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
