namespace Work.Grains;

// Runs handed over before their due time (WorkClusterOptions.EarlyHandOver) wait for it on the silo's precise
// wake-ups, holding their slots.
internal sealed partial class JobExecutorGrain
{
    /// <summary>
    /// One due time's wake-up, and the runs parked until it comes. A parked run takes no thread before then, and the
    /// wake-up starts its runs from one loop, in the order they came: many runs due at once cost nothing before their
    /// due time, and the first of them starts as soon as it comes.
    /// </summary>
    private sealed class DueMoment(Task wake)
    {
        private readonly Lock _lock = new();
        private List<(Running Running, JobLane Lane)>? _parked = [];

        public Task Wake { get; } = wake;

        /// <summary>Parks a run until the wake-up; false when it came already.</summary>
        public bool TryPark(Running running, JobLane lane)
        {
            lock (_lock)
            {
                _parked?.Add((running, lane));
                return _parked is not null;
            }
        }

        /// <summary>Takes the parked runs; none is parked after this.</summary>
        public List<(Running Running, JobLane Lane)> Release()
        {
            lock (_lock)
            {
                var parked = _parked ?? [];
                _parked = null;
                return parked;
            }
        }
    }

    // Parks a run until its due time; a cancellation meanwhile starts it at once, to be reported as cancelled before
    // it ran. False when the due time came already.
    private bool TryPark(Running running, JobLane lane)
    {
        var moment = MomentAt(running.Order.ScheduledAt);
        if (!moment.TryPark(running, lane))
        {
            return false;
        }

        running.Cancellation.Token.UnsafeRegister(
            static state =>
            {
                var (grain, parked, parkedLane) = ((JobExecutorGrain, Running, JobLane))state!;
                grain.Start(parked, parkedLane);
            },
            (this, running, lane));
        return true;
    }

    // A run that takes its slot before its due time (queued, or started by its cancellation) waits for the due time
    // here; false when it was cancelled meanwhile.
    private async Task<bool> DueAsync(Running running)
    {
        if (running.Order.ScheduledAt <= _time.GetUtcNow())
        {
            return true;
        }

        try
        {
            await MomentAt(running.Order.ScheduledAt).Wake.WaitAsync(running.Cancellation.Token);
            return true;
        }
        catch (OperationCanceledException) when (running.Cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    // Runs due at the same moment share one wake-up, forgotten once it has come.
    private DueMoment MomentAt(DateTimeOffset time)
    {
        var moment = _dueAt.GetOrAdd(time, static (at, grain) => grain.NewMoment(at), this);
        if (moment.Wake.IsCompleted)
        {
            // It may have come before it was stored (its time had just passed), when nothing could forget it.
            _dueAt.TryRemove(new KeyValuePair<DateTimeOffset, DueMoment>(time, moment));
            StartParked(moment);
        }

        return moment;
    }

    private DueMoment NewMoment(DateTimeOffset time)
    {
        var moment = new DueMoment(_wakeUps.WaitUntilAsync(time));
        _ = moment.Wake.ContinueWith(
            static (_, state) =>
            {
                var (grain, at, came) = ((JobExecutorGrain, DateTimeOffset, DueMoment))state!;
                grain._dueAt.TryRemove(new KeyValuePair<DateTimeOffset, DueMoment>(at, came));
                grain.StartParked(came);
            },
            (this, time, moment),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return moment;
    }

    // Starts the runs parked on a moment that came; with several, each lets the others start before its report.
    private void StartParked(DueMoment moment)
    {
        var parked = moment.Release();
        foreach (var (running, lane) in parked)
        {
            running.StartedWithOthers = parked.Count > 1;
            Start(running, lane);
        }
    }
}
