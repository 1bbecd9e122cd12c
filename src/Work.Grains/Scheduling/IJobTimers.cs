namespace Work.Scheduling;

/// <summary>
/// Makes one-shot timers whose callbacks run where the job's other code runs: grain timers on the activation in a
/// silo, timers on a fake clock in tests. A callback never overlaps itself.
/// </summary>
internal interface IJobTimers
{
    /// <summary>A disarmed timer; <paramref name="keepAlive"/> keeps the grain's activation alive while it is armed.</summary>
    IJobTimer Create(Func<Task> callback, bool keepAlive);
}

/// <summary>A one-shot timer.</summary>
internal interface IJobTimer : IDisposable
{
    /// <summary>Fires once after <paramref name="dueTime"/>; <see cref="Timeout.InfiniteTimeSpan"/> disarms it.</summary>
    void Change(TimeSpan dueTime);
}
