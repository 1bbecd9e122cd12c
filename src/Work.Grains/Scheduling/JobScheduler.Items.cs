using Work.Pipeline;

namespace Work.Scheduling;

// Items of the job's source: claimed into runs, held until their final status is recorded, then settled.
internal sealed partial class JobScheduler
{
    /// <summary>The source the job reads while started, or null.</summary>
    public ReceiveBinding? Receiving => State.Started && Problem is null ? State.Definition?.Receive : null;

    /// <summary>How many items the job holds whose executions have not ended.</summary>
    public int ItemsRunning { get; private set; }

    /// <summary>
    /// How many more items the job may claim now: it holds at most twice its allowed workers (those running and the
    /// next ones, ready to take a slot as it frees), so the source is read no faster than the job frees slots. Claims
    /// come in batches: while it holds more than its workers can run, it wants none.
    /// </summary>
    public int ItemsWanted(DateTimeOffset now)
    {
        var allowed = AllowedWorkers(now);
        return Receiving is null || ItemsRunning > allowed ? 0 : (2 * allowed) - ItemsRunning;
    }

    /// <summary>
    /// Takes claimed items in as runs due now (an item the job already holds, delivered again after its visibility
    /// ran out, is not run twice). Returns how many became runs.
    /// </summary>
    public int AcceptItems(IReadOnlyList<ClaimedItem> claimed)
    {
        var held = State.Items.Values.Select(h => (h.Item.Source, h.Item.Id)).ToHashSet();
        var now = _time.GetUtcNow();
        var definition = Definition;
        var accepted = 0;
        foreach (var (item, args) in claimed)
        {
            if (!held.Add((item.Source, item.Id)))
            {
                continue;
            }

            var run = new PendingRun
            {
                ExecutionId = ExecutionIds.New(now),
                DueAt = now,
                Args = args,
                TraceParent = definition.Job.TraceParent,
                TraceState = definition.Job.TraceState,
                Item = item,
            };
            Ready.Enqueue(run);
            State.Items[run.ExecutionId] = new HeldItem { Item = item };
            ItemsRunning++;
            accepted++;
        }

        return accepted;
    }

    /// <summary>
    /// Decides what becomes of the items whose executions just ended (in <paramref name="finished"/>, final records):
    /// a success is acknowledged; a failure goes to the dead letter table, or back to the source when the job stopped.
    /// Returns true when any was decided: the caller settles them once the records are durable.
    /// </summary>
    public bool ItemsEnded(IReadOnlyList<JobExecution> finished)
    {
        if (State.Items.Count == 0)
        {
            return false;
        }

        var any = false;
        foreach (var record in finished)
        {
            if (!State.Items.TryGetValue(record.ExecutionId, out var held) || held.Settlement != ItemSettlement.None)
            {
                continue;
            }

            var settlement = record.Status == JobStatus.Success ? ItemSettlement.Acknowledge
                : State.Started ? ItemSettlement.DeadLetter
                : ItemSettlement.Release;
            State.Items[record.ExecutionId] = held with { Settlement = settlement, Status = record.Status, Error = record.Error };
            ItemsRunning--;
            any = true;
        }

        return any;
    }

    /// <summary>The held items whose settlement is decided, by source.</summary>
    public List<(string ExecutionId, HeldItem Item)> ItemsToSettle() =>
        State.Items.Where(p => p.Value.Settlement != ItemSettlement.None).Select(p => (p.Key, p.Value)).ToList();

    /// <summary>Forgets items whose settlement was written to the source.</summary>
    public void ItemsSettled(IEnumerable<string> executionIds)
    {
        foreach (var id in executionIds)
        {
            State.Items.Remove(id);
        }
    }

    // A deleted job hears no more of its runs: every item it holds goes back to the source.
    private void ReleaseItems()
    {
        foreach (var (id, held) in State.Items.Where(p => p.Value.Settlement == ItemSettlement.None).ToList())
        {
            State.Items[id] = held with { Settlement = ItemSettlement.Release, Status = JobStatus.NoResponse, Error = "The job was deleted." };
        }

        ItemsRunning = 0;
    }

    /// <summary>Counts the items still running, after a load.</summary>
    private void CountItems() => ItemsRunning = State.Items.Values.Count(h => h.Settlement == ItemSettlement.None);
}
