using Work.Scheduling;

namespace Work.Grains;

/// <summary>Grain timers for a job's plain parts: their callbacks run on the activation, interleaved with its calls.</summary>
internal sealed class GrainJobTimers(Grain grain) : IJobTimers
{
    public IJobTimer Create(Func<Task> callback, bool keepAlive) => new Timer(grain.RegisterGrainTimer(
        static (callback, _) => callback(),
        callback,
        new GrainTimerCreationOptions { DueTime = Timeout.InfiniteTimeSpan, Period = Timeout.InfiniteTimeSpan, Interleave = true, KeepAlive = keepAlive }));

    private sealed class Timer(IGrainTimer timer) : IJobTimer
    {
        public void Change(TimeSpan dueTime) => timer.Change(dueTime, Timeout.InfiniteTimeSpan);

        public void Dispose() => timer.Dispose();
    }
}
