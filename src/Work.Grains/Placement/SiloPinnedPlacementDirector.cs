using Orleans.Runtime.Placement;

namespace Work.Placement;

/// <summary>
/// Puts the activation on the silo named by the grain's key when that silo can host it; when that silo is not active
/// (it is gone), on the local silo, so the work still runs on a live silo.
/// </summary>
/// <remarks>
/// A silo that has just joined is active some time before this silo has fetched the list of grains it hosts, and
/// until then it is not among the compatible silos. Placing its grain elsewhere then would not be a moment's detour:
/// the caller's directory cache keeps the placement, so every later call creates the grain on that wrong silo again,
/// even after each such activation leaves. The placement fails instead (<see cref="SiloUnavailableException"/>), and
/// the caller asks again a moment later, when the silo can be chosen.
/// </remarks>
internal sealed class SiloPinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
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

        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && member.SiloAddress.ToParsableString() == key)
            {
                throw new SiloUnavailableException(
                    $"Silo {key} is active but {context.LocalSilo} does not know yet which grains it hosts; {target.GrainIdentity} cannot be placed on it yet.");
            }
        }

        return Task.FromResult(Array.IndexOf(silos, context.LocalSilo) >= 0 ? context.LocalSilo : silos[Random.Shared.Next(silos.Length)]);
    }
}
