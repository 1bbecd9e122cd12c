namespace Work.Scheduling;

/// <summary>
/// The dead silos whose jobs the watch has woken. Silos that the membership has forgotten (its defunct entries expire)
/// are forgotten here too, so the set stays as small as the membership's.
/// </summary>
internal sealed class DeadSilos
{
    // Null until the first wake-up: every silo dead then may have held jobs nobody woke.
    private HashSet<SiloAddress>? _handled;

    /// <summary>Whether <paramref name="dead"/> holds a silo whose jobs were not woken since it died.</summary>
    public bool AnyNew(IReadOnlyCollection<SiloAddress> dead) =>
        _handled is null ? dead.Count > 0 : dead.Any(silo => !_handled.Contains(silo));

    /// <summary>Every job was woken after these silos died.</summary>
    public void Handled(IEnumerable<SiloAddress> dead) => _handled = [.. dead];
}
