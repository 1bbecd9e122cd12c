using Orleans.Placement;

namespace Work.Placement;

/// <summary>
/// Places a string-keyed grain on the silo its key names (a silo address in its parsable form). Used for the
/// per-silo executor, which a job grain addresses explicitly to spread executions across the cluster.
/// </summary>
[GenerateSerializer, Immutable, Alias("work.silo-pinned")]
internal sealed class SiloPinnedPlacementStrategy : PlacementStrategy
{
    internal static SiloPinnedPlacementStrategy Instance { get; } = new();
}

/// <summary>Marks a grain class for <see cref="SiloPinnedPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloPinnedPlacementAttribute : PlacementAttribute
{
    /// <summary>Creates the attribute.</summary>
    public SiloPinnedPlacementAttribute()
        : base(SiloPinnedPlacementStrategy.Instance)
    {
    }
}
