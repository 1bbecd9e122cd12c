using Microsoft.Extensions.Time.Testing;
using Work.Scheduling;

namespace Work.Tests.Simulation;

/// <summary>
/// Job timers on a fake clock whose callbacks run as turns of a <see cref="DeterministicTaskScheduler"/>, as grain
/// timers' callbacks run as turns of their activation. Remembers every timer it made.
/// </summary>
internal sealed class FakeJobTimers(FakeTimeProvider time, DeterministicTaskScheduler turns, Func<bool>? dead = null) : IJobTimers
{
    /// <summary>The timers made, in order, with whether each keeps its activation alive.</summary>
    public List<(bool KeepAlive, Timer Timer)> Made { get; } = [];

    public IJobTimer Create(Func<Task> callback, bool keepAlive)
    {
        var timer = new Timer(time, turns, callback, dead);
        Made.Add((keepAlive, timer));
        return timer;
    }

    public sealed class Timer : IJobTimer
    {
        private readonly ITimer _timer;

        public Timer(FakeTimeProvider time, DeterministicTaskScheduler turns, Func<Task> callback, Func<bool>? dead) =>
            _timer = time.CreateTimer(
                _ =>
                {
                    if (!Disposed && dead?.Invoke() != true)
                    {
                        Fired++;
                        _ = turns.Start(callback);
                    }
                },
                null,
                Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);

        public bool Disposed { get; private set; }

        public int Fired { get; private set; }

        public void Change(TimeSpan dueTime) => _timer.Change(dueTime, Timeout.InfiniteTimeSpan);

        public void Dispose()
        {
            Disposed = true;
            _timer.Dispose();
        }
    }
}
