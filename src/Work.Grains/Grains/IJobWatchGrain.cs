namespace Work.Grains;

/// <summary>
/// The cluster's watch over its jobs (<see cref="JobWatchGrain"/>): wakes every defined job when a silo has died since
/// it last did. Only silos call it: it is not part of the client contracts.
/// </summary>
[Alias("work.IJobWatchGrain")]
internal interface IJobWatchGrain : IGrainWithStringKey
{
    /// <summary>The watch's key: there is one per cluster.</summary>
    public const string Key = "work";

    /// <summary>
    /// Looks at the membership (at least as new as <paramref name="seen"/>) and wakes every defined job, in the
    /// background, when a silo died since the watch last did, or always when <paramref name="wakeAll"/> (a silo
    /// started: the cluster may have restarted). Returns once the wake-up is under way.
    /// </summary>
    [Alias("Check")]
    Task CheckAsync(bool wakeAll, MembershipVersion seen, string reason);
}
