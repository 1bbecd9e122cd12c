namespace Work.Scheduling;

/// <summary>
/// What one durable write of a job carries: its main state as it was at one moment, the segments changed up to that
/// moment, the segments dropped up to it (deleted once the main state no longer points at them), and the reruns of lost
/// attempts it stores (free to go once it is written).
/// </summary>
internal sealed record JobChanges(
    JobState State,
    List<SegmentWrite<PendingRun>> Ready,
    List<long> ReadyDropped,
    List<SegmentWrite<JobExecution>> History,
    List<long> HistoryDropped,
    IReadOnlyList<(string ExecutionId, int Attempt)> Reruns);
