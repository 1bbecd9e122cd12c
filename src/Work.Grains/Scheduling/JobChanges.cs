namespace Work.Scheduling;

/// <summary>
/// What one durable write of a job carries: its main state as it was at one moment, the segments changed up to that
/// moment, and the segments dropped up to it (deleted once the main state no longer points at them).
/// </summary>
internal sealed record JobChanges(
    JobState State,
    List<SegmentWrite<PendingRun>> Ready,
    List<long> ReadyDropped,
    List<SegmentWrite<JobExecution>> History,
    List<long> HistoryDropped);
