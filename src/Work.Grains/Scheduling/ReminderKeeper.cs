namespace Work.Scheduling;

/// <summary>
/// Keeps a job's reminder registered while it has something scheduled, and unregistered otherwise. The reminder is
/// only how a job comes back after its silo dies (silos also wake every job when a silo starts or dies), so it is
/// brought up to date beside the job's work, never in its way: the reminder service can be slow to answer while the
/// silo owning this job's share of reminders is declared dead, and a job must answer meanwhile. One update is under
/// way at a time; a change made meanwhile is applied after it. A failed update is tried again at the next change.
/// </summary>
internal sealed class ReminderKeeper(Func<Task> register, Func<Task> unregister, Action<Exception> failed)
{
    // Null until this activation has registered or unregistered it.
    private bool? _registered;
    private bool _needed;
    private bool _stale;

    /// <summary>The update under way, or the last one; tests wait on it.</summary>
    public Task Update { get; private set; } = Task.CompletedTask;

    /// <summary>Whether the reminder is registered, as far as this keeper knows.</summary>
    public bool? Registered => _registered;

    /// <summary>Takes the reminder as registered or not without asking (the job noted it), unless this keeper knows already.</summary>
    public void Assume(bool registered)
    {
        if (_registered is null && Update.IsCompleted)
        {
            _registered = registered;
        }
    }

    /// <summary>Asks for the reminder to be registered or not.</summary>
    public void Set(bool needed)
    {
        _needed = needed;
        if (!Update.IsCompleted)
        {
            _stale = true;
            return;
        }

        if (needed != _registered)
        {
            Update = ApplyAsync();
        }
    }

    private async Task ApplyAsync()
    {
        try
        {
            do
            {
                _stale = false;
                var needed = _needed;
                if (needed == _registered)
                {
                    continue;
                }

                await (needed ? register() : unregister());
                _registered = needed;
            }
            while (_stale);
        }
        catch (Exception ex)
        {
            _registered = null;
            failed(ex);
        }
    }
}
