namespace Work.Cluster.Tests;

/// <summary>
/// A silo that stops gracefully lets what runs on it finish and be recorded, takes no more runs, and gives back those
/// queued on it: nothing it finished runs again, and nothing waits for its leases.
/// </summary>
public sealed class DrainTests
{
    [Fact]
    public async Task ARunOnASiloThatStopsFinishesThereOnceAndTheRunsQueuedThereRunElsewhere()
    {
        // Two silos, and a job that lives on the one that stops: its runs held there and on the other silo.
        await using var cluster = await FailoverCluster.StartAsync(2);
        var board = Probe.NewBoard();
        var victim = cluster.Cluster.SecondarySilos[0];
        var victimName = victim.SiloAddress.ToParsableString();
        var job = await StartedJobAsync(cluster, board, "drain", victimName, onVictim: true);
        var (held, _) = await HoldBothSlotsAsync(cluster, job, board);

        // Beyond the cap: they wait, some of them queued on the executor that is about to stop.
        var queued = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => job.EnqueueAsync(Probe.Args(board))));
        var stopping = cluster.Cluster.StopSiloAsync(victim);
        await FailoverCluster.Drain(victim).Draining.WaitAsync(ClusterFixture.SafetyBound);
        board.Gate.SetResult();
        await stopping;

        var done = await Task.WhenAll(held.Concat(queued).Select(job.WaitFinishedAsync));
        Assert.All(done, e => Assert.Equal((JobStatus.Success, 1), (e.Status, e.Attempt)));
        Assert.Equal(8, board.Started.Count);
        Assert.Equal(8, board.Started.Select(s => s.ExecutionId).Distinct().Count());

        // The held run on the stopping silo finished there and was recorded before the silo went.
        Assert.Contains(done, e => held.Contains(e.ExecutionId) && e.Worker == victimName);

        // Nothing started there once it began to stop (the cap held every queued run back until then), and the job
        // went on from the other silo.
        Assert.All(done.Where(e => queued.Contains(e.ExecutionId)), e => Assert.NotEqual(victimName, e.Worker));
        Assert.Equal(0, board.Cancelled);
        var info = await job.GetInfoAsync();
        Assert.Equal((0, cluster.Cluster.Primary!.SiloAddress.ToParsableString()), (info.RunningWorkers, info.Silo));
    }

    [Fact]
    public async Task RunsSentToASiloThatIsStoppingComeBackAndRunElsewhere()
    {
        // Two silos, and a job that lives on the one that stays: it learns that the other stops from its executor.
        await using var cluster = await FailoverCluster.StartAsync(2);
        var board = Probe.NewBoard();
        var victim = cluster.Cluster.SecondarySilos[0];
        var victimName = victim.SiloAddress.ToParsableString();
        var job = await StartedJobAsync(cluster, board, "drain-refused", victimName, onVictim: false);
        var (held, _) = await HoldBothSlotsAsync(cluster, job, board);
        var stopping = cluster.Cluster.StopSiloAsync(victim);
        await FailoverCluster.Drain(victim).Draining.WaitAsync(ClusterFixture.SafetyBound);

        // Sent ahead to both executors that hold a slot: the stopping one refuses its share and gives it back.
        var later = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => job.EnqueueAsync(Probe.Args(board))));
        board.Gate.SetResult();
        await stopping;

        var done = await Task.WhenAll(held.Concat(later).Select(job.WaitFinishedAsync));
        Assert.All(done, e => Assert.Equal((JobStatus.Success, 1), (e.Status, e.Attempt)));
        Assert.Equal(6, board.Started.Count);
        Assert.All(done.Where(e => later.Contains(e.ExecutionId)), e => Assert.NotEqual(victimName, e.Worker));
    }

    [Fact]
    public async Task ARunStillGoingAtTheDrainsDeadlineIsCancelledAndRunsAgainElsewhere()
    {
        await using var cluster = await FailoverCluster.StartAsync(3, drainTimeout: TimeSpan.FromMilliseconds(500));
        var board = Probe.NewBoard();
        var job = cluster.Job(ClusterFixture.NewJobName("drain-deadline"));
        await job.DefineProbeAsync(board, maxWorkers: 2);
        await job.StartAsync();
        var (held, victim) = await HoldBothSlotsAsync(cluster, job, board);
        var victimName = victim.SiloAddress.ToParsableString();
        var onVictim = board.Started.Single(s => s.Silo == victimName).ExecutionId;

        // The run held there is still going when the drain gives up: its token is cancelled, and it is not reported.
        await cluster.Cluster.StopSiloAsync(victim);
        Assert.Equal(1, board.Cancelled);

        // Its lease runs out and it runs again elsewhere, as its second attempt; the other run is untouched.
        var again = await job.WaitFinishedAsync(onVictim);
        Assert.Equal((JobStatus.Success, 2), (again.Status, again.Attempt));
        Assert.NotEqual(victimName, again.Worker);
        board.Gate.SetResult();
        var other = await job.WaitFinishedAsync(held.Single(id => id != onVictim));
        Assert.Equal((JobStatus.Success, 1), (other.Status, other.Attempt));
    }

    // A started probe job with two workers whose grain lives on the silo named victim, or on another one.
    private static async Task<IConcurrentJobGrain> StartedJobAsync(FailoverCluster cluster, Probe.Board board, string name, string victim, bool onVictim)
    {
        IConcurrentJobGrain job;
        do
        {
            job = cluster.Job(ClusterFixture.NewJobName(name));
            await job.DefineProbeAsync(board, maxWorkers: 2);
        }
        while (((await job.GetInfoAsync()).Silo == victim) != onVictim);

        await job.StartAsync();
        return job;
    }

    // Two runs that wait for the board's gate, one on each of two silos; returns them and a silo other than the
    // primary (which holds the test cluster's membership) that runs one.
    private static async Task<(string[] Held, Orleans.TestingHost.SiloHandle Victim)> HoldBothSlotsAsync(
        FailoverCluster cluster, IConcurrentJobGrain job, Probe.Board board)
    {
        var held = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => job.EnqueueAsync(Probe.Args(board, held: 1))));
        var silos = new[] { (await board.NextStartAsync()).Silo, (await board.NextStartAsync()).Silo };
        Assert.NotEqual(silos[0], silos[1]);
        return (held, cluster.Cluster.SecondarySilos.First(s => silos.Contains(s.SiloAddress.ToParsableString())));
    }
}
