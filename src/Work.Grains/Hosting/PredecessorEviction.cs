using Microsoft.Extensions.Logging;

namespace Work.Hosting;

/// <summary>
/// Declares dead the older incarnations of this silo's own endpoint that membership still shows alive. A silo started
/// again on the same address after a crash has Orleans declare its predecessor dead while it starts, but a declaration
/// that loses a race on the membership table's version (another silo starting at the same moment) is not tried again
/// until the next table refresh (a minute by default); meanwhile the grain directory routes calls to the dead
/// incarnation, and they fail with "the target silo is no longer active". This silo tries again every second until
/// membership shows the predecessor gone.
/// </summary>
internal sealed partial class PredecessorEviction(
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<PredecessorEviction> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The incarnations of <paramref name="local"/>'s endpoint older than it that are not dead in <paramref name="snapshot"/>.</summary>
    public static IReadOnlyList<SiloAddress> Predecessors(ClusterMembershipSnapshot snapshot, SiloAddress local) =>
        snapshot.Members.Values
            .Where(m => m.Status != SiloStatus.Dead && m.SiloAddress.Endpoint.Equals(local.Endpoint) && m.SiloAddress.Generation < local.Generation)
            .Select(m => m.SiloAddress)
            .ToList();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PredecessorEviction), ServiceLifecycleStage.Active, OnActiveAsync, OnStopAsync);

    public void Dispose() => _stopping.Dispose();

    private Task OnActiveAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(WatchAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken) => await _stopping.CancelAsync();

    private async Task WatchAsync()
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                while (Predecessors(membership.CurrentSnapshot, silo.SiloAddress) is { Count: > 0 } stale)
                {
                    foreach (var predecessor in stale)
                    {
                        LogEvicting(logger, predecessor);
                        try
                        {
                            await membership.TryKill(predecessor);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            LogEvictionFailed(logger, ex, predecessor);
                        }
                    }

                    await Task.Delay(s_retry, time, _stopping.Token);
                    await membership.Refresh(default, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The silo is stopping.
        }
        catch (Exception ex)
        {
            LogWatchFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 2400, Level = LogLevel.Warning, Message = "Membership still shows {Predecessor}, an older incarnation of this silo's endpoint, alive: declaring it dead")]
    private static partial void LogEvicting(ILogger logger, SiloAddress predecessor);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning, Message = "Could not declare {Predecessor} dead; trying again")]
    private static partial void LogEvictionFailed(ILogger logger, Exception error, SiloAddress predecessor);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Error, Message = "Stopped watching for older incarnations of this silo's endpoint")]
    private static partial void LogWatchFailed(ILogger logger, Exception error);
}
