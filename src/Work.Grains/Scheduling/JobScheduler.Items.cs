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
        return Receiving is not { Kind: SourceKind.Table } || ItemsRunning > allowed ? 0 : (2 * allowed) - ItemsRunning;
    }

    /// <summary>
    /// Whether the job takes items from its stream on <paramref name="provider"/> now: it is started and bound to a
    /// stream on that provider, and holds fewer than twice its allowed workers (the table queue's bound; a batch
    /// published together is taken together, so it may hold up to a batch more).
    /// </summary>
    public bool StreamRoom(string provider, DateTimeOffset now) =>
        Receiving is { Kind: SourceKind.Stream } binding && binding.Source == provider && ItemsRunning < 2 * AllowedWorkers(now);

    /// <summary>
    /// Takes items delivered by the job's stream in as runs due now, and returns how many became runs: an item the job
    /// holds already (same idempotency key, or same position in the stream) is not run twice.
    /// </summary>
    public int AcceptStreamItems(IReadOnlyList<ClaimedItem> items)
    {
        var held = State.Items.Values.Where(h => h.FromStream && h.Settlement == ItemSettlement.None).Select(h => h.Item).ToList();
        var now = _time.GetUtcNow();
        var taken = 0;
        foreach (var (item, args) in items)
        {
            if (held.Exists(h => SameStreamItem(h, item)))
            {
                continue;
            }

            var stamped = item with { EnqueuedAt = now };
            Take(stamped, args, fromStream: true);
            held.Add(stamped);
            taken++;
        }

        return taken;
    }

    private static bool SameStreamItem(WorkItem held, WorkItem item) => item.IdempotencyKey is { } key
        ? held.IdempotencyKey == key
        : held.IdempotencyKey is null && held.Source == item.Source && held.Id == item.Id && held.Index == item.Index;

    /// <summary>
    /// Takes claimed items in as runs due now (an item the job already holds, delivered again after its visibility
    /// ran out, is not run twice). Returns how many became runs.
    /// </summary>
    public int AcceptItems(IReadOnlyList<ClaimedItem> claimed)
    {
        var held = State.Items.Values.Where(h => !h.FromStream).Select(h => (h.Item.Source, h.Item.Id)).ToHashSet();
        var accepted = 0;
        foreach (var (item, args) in claimed)
        {
            if (!held.Add((item.Source, item.Id)))
            {
                continue;
            }

            Take(item, args, fromStream: false);
            accepted++;
        }

        return accepted;
    }

    private PendingRun Take(WorkItem item, JobArgs? args, bool fromStream)
    {
        var definition = Definition;
        var now = _time.GetUtcNow();
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
        State.Items[run.ExecutionId] = new HeldItem { Item = item, FromStream = fromStream };
        ItemsRunning++;
        return run;
    }

    /// <summary>
    /// Decides what becomes of the items whose executions just ended (in <paramref name="finished"/>, final records):
    /// a success is acknowledged; a failure goes to the dead letter table, or back to the source when the job stopped.
    /// An item from a stream is forgotten: its execution's record is all that is left of it. Returns true when a table
    /// item was decided: the caller settles them once the records are durable.
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

            if (held.FromStream)
            {
                State.Items.Remove(record.ExecutionId);
                ItemsRunning--;
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

    // A deleted job hears no more of its runs: every item it holds goes back to the source (a stream's are dropped
    // with the job: a stream cannot take an item back).
    private void ReleaseItems()
    {
        foreach (var (id, held) in State.Items.Where(p => p.Value.Settlement == ItemSettlement.None).ToList())
        {
            if (held.FromStream)
            {
                State.Items.Remove(id);
                continue;
            }

            State.Items[id] = held with { Settlement = ItemSettlement.Release, Status = JobStatus.NoResponse, Error = "The job was deleted." };
        }

        ItemsRunning = 0;
    }

    /// <summary>Counts the items still running, after a load.</summary>
    private void CountItems() => ItemsRunning = State.Items.Values.Count(h => h.Settlement == ItemSettlement.None);
}
