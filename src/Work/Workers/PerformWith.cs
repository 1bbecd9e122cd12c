namespace Work.Workers;

/// <summary>How each worker of a <see cref="ConcurrentJob"/> performs the job.</summary>
public enum PerformWith
{
    /// <summary>Each worker performs the job once.</summary>
    Once,

    /// <summary>Each worker performs the job every <see cref="ConcurrentJobOptions.Interval"/>.</summary>
    Every,

    /// <summary>The workers compete for the items of <see cref="ConcurrentJobOptions.Source"/>, one execution per item.</summary>
    Receive,
}
