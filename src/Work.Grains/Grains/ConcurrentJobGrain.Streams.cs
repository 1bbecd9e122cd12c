using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using Work.Scheduling;

namespace Work.Grains;

// A job bound to a stream: takes an item its stream delivers once it has room for it, durably, before the delivery
// call returns; until then the delivery waits, and with it the stream.
internal sealed partial class ConcurrentJobGrain
{
    /// <summary>How long one delivery call waits for room before it says "not yet" (the stream's consumer calls again).</summary>
    internal static readonly TimeSpan StreamWait = TimeSpan.FromSeconds(10);

    // Completed when room may have opened: an execution ended, or the job was defined or started.
    private TaskCompletionSource? _streamRoom;

    // A stream binding needs that stream provider on the silos.
    private void CheckStream(JobDefinition definition)
    {
        if (definition.Receive is { Kind: SourceKind.Stream } binding && ServiceProvider.GetKeyedService<IStreamProvider>(binding.Source) is null)
        {
            throw new ArgumentException(
                $"Job '{Name}' cannot read a stream on provider '{binding.Source}': the silo has no stream provider of that name. Enable the silo's streams (Work:Streams:Enabled, provider '{WorkStreams.ProviderName}'), or add that provider to every silo. Job '{Name}' was not defined.");
        }
    }

    public async Task<bool> AcceptStreamItemsAsync(string provider, IReadOnlyList<ClaimedItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var deadline = _time.GetUtcNow() + StreamWait;
        while (true)
        {
            var scheduler = await UsableAsync();
            var now = _time.GetUtcNow();
            if (scheduler.StreamRoom(provider, now))
            {
                if (scheduler.AcceptStreamItems(items) > 0)
                {
                    await _acceptPump.RunAsync();
                }

                return true;
            }

            if (now >= deadline)
            {
                return false;
            }

            var room = _streamRoom ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await room.Task.WaitAsync(deadline - now, _time);
            }
            catch (TimeoutException)
            {
                // Looked at once more, then "not yet".
            }
        }
    }

    private void StreamRoomMayHaveOpened()
    {
        if (_streamRoom is { } room)
        {
            _streamRoom = null;
            room.TrySetResult();
        }
    }
}
