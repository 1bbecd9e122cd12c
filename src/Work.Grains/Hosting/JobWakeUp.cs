using Microsoft.Extensions.Logging;
using Work.Grains;

namespace Work.Hosting;

/// <summary>
/// Tells the cluster's job watch (<see cref="IJobWatchGrain"/>) when this silo becomes active (after a restart every
/// job must resume at once, not at the watch's next reminder tick) and when it sees a silo declared dead (the jobs that
/// silo held move to the survivors). The watch wakes every defined job once per such event, however many silos tell
/// it. A call that fails is tried again until it is answered or this silo stops.
/// </summary>
internal sealed partial class JobWakeUp(
    IGrainFactory grains,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<JobWakeUp> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan[] s_backoff = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];

    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(JobWakeUp), ServiceLifecycleStage.Active, OnActiveAsync, OnStopAsync);

    private Task OnActiveAsync(CancellationToken cancellationToken)
    {
        // In the background: a silo does not wait for every job to activate before it serves.
        _ = Task.Run(() => TellAsync(wakeAll: true, membership.CurrentSnapshot.Version, $"{silo.SiloAddress} started"), CancellationToken.None);
        _ = Task.Run(WatchDeathsAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
    }

    public void Dispose() => _stopping.Dispose();

    private async Task WatchDeathsAsync()
    {
        HashSet<SiloAddress>? dead = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stopping.Token))
            {
                var members = snapshot.Members.Values;
                if (dead is null)
                {
                    // Silos that were dead before this one started: the start's call covers them.
                    dead = members.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                    continue;
                }

                var newlyDead = members.Where(m => m.Status == SiloStatus.Dead && dead.Add(m.SiloAddress)).ToList();
                if (newlyDead.Count > 0)
                {
                    _ = TellAsync(wakeAll: false, snapshot.Version, $"{string.Join(", ", newlyDead.Select(m => m.SiloAddress))} died");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The silo is stopping.
        }
    }

    private async Task TellAsync(bool wakeAll, MembershipVersion seen, string reason)
    {
        var watch = grains.GetGrain<IJobWatchGrain>(IJobWatchGrain.Key);
        for (var attempt = 0; !_stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await watch.CheckAsync(wakeAll, seen, reason);
                return;
            }
            catch (Exception ex)
            {
                LogTellFailed(logger, ex, reason);
            }

            try
            {
                await Task.Delay(s_backoff[Math.Min(attempt, s_backoff.Length - 1)], time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Could not reach the job watch ({Reason}); trying again")]
    private static partial void LogTellFailed(ILogger logger, Exception error, string reason);
}
