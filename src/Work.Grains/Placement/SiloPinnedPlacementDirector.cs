using Orleans.Runtime.Placement;

namespace Work.Placement;

/// <summary>
/// Puts the activation on the silo named by the grain's key when that silo can host it; otherwise on the local silo
/// (the silo is gone: the work still runs, on a live silo).
/// </summary>
internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var key = target.GrainIdentity.Key.ToString();
        foreach (var silo in silos)
        {
            if (silo.ToParsableString() == key)
            {
                return Task.FromResult(silo);
            }
        }

        return Task.FromResult(Array.IndexOf(silos, context.LocalSilo) >= 0 ? context.LocalSilo : silos[Random.Shared.Next(silos.Length)]);
    }
}
