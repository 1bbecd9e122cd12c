using System.Text.Json;
using Work.Client;
using Work.Cli;

namespace Work.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class WorkClientTests(ClusterFixture fixture)
{
    private WorkClient Client => new(fixture.Cluster.Client);

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var cli = new WorkCli((_, _) => Task.FromResult(Client));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await cli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task ClientPerformWaitsForTheResult()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("client");
        await Client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }));
        await Client.StartAsync(name);

        var done = await Client.PerformAsync(name, Probe.Args(board, status: 444));

        Assert.Equal(JobStatus.NoResponse, done.Status);
        Assert.Contains(name, await Client.ListAsync());
        Assert.Equal(done.ExecutionId, (await Client.GetHistoryAsync(name)).Single().ExecutionId);
    }

    [Fact]
    public async Task ConcurrentClientPerformsEachGetTheirOwnExecution()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("client-many");
        var client = Client;
        await client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { MaxWorkers = 8, HistoryLimit = 500 });
        await client.StartAsync(name);

        // Every other perform asks for status 444, so each result shows it ran with its own args.
        var ids = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            Task.Run(() => client.EnqueueAsync(name, Probe.Args(board, status: i % 2 == 0 ? 444 : null)))));
        var done = await Task.WhenAll(ids.Select(id => client.WaitAsync(name, id)));

        Assert.Equal(300, ids.Distinct().Count());
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], done[i].ExecutionId);
            Assert.Equal(i % 2 == 0 ? JobStatus.NoResponse : JobStatus.Success, done[i].Status);
        }

        Assert.Equal(300, board.Started.Select(s => s.ExecutionId).Distinct().Count());
    }

    [Fact]
    public async Task ClientPerformErrorsNameTheProblemAndAcceptNothing()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("client-bad");
        var client = Client;
        await client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }));

        var notStarted = await Assert.ThrowsAsync<InvalidOperationException>(() => Task.WhenAll(client.EnqueueAsync(name), client.EnqueueAsync(name)));
        await client.StartAsync(name);
        var big = JobArgs.From(new { run = board.Id, blob = new string('x', (1 << 20) + 1) });
        var size = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(name, big));
        var time = await Assert.ThrowsAsync<ArgumentException>(() => client.PerformAtAsync(name, default));

        Assert.Contains("not started", notStarted.Message, StringComparison.Ordinal);
        Assert.Contains("1 MiB", size.Message, StringComparison.Ordinal);
        Assert.Contains("default DateTimeOffset", time.Message, StringComparison.Ordinal);
        var info = await client.GetInfoAsync(name);
        Assert.Equal(0, info.Pending + info.Finished + info.RunningWorkers);
    }

    [Fact]
    public async Task ClientRejectsAnEmptyJobNameByName()
    {
        var error = Assert.Throws<ArgumentException>(() => Client.Job(" "));
        Assert.Contains("job name must not be empty", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync(""));
    }

    [Fact]
    public async Task CliDefinesStartsPerformsAndShowsHistory()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("cli");
        var args = $$"""{"run":"{{board.Id}}"}""";

        var define = await RunAsync("define", name, "--handler", Probe.Handler, "--args", args, "--max-workers", "3");
        var start = await RunAsync("start", name);
        var perform = await RunAsync("perform", name);
        var enqueue = await RunAsync("perform", name, "--async");
        var id = enqueue.Output.Trim();
        await Client.WaitAsync(name, id);
        var history = await RunAsync("history", name);
        var status = await RunAsync("status", name);
        var list = await RunAsync("list");

        Assert.Equal((0, $"defined {name}"), (define.Exit, define.Output.Trim()));
        Assert.Equal((0, $"started {name}"), (start.Exit, start.Output.Trim()));
        Assert.Equal(0, perform.Exit);
        Assert.Contains("200 Success", perform.Output, StringComparison.Ordinal);
        Assert.Equal(32, id.Length);
        Assert.Contains(id, history.Output, StringComparison.Ordinal);
        Assert.Equal(3, history.Output.Trim().Split('\n').Length);
        Assert.Contains("max 3", status.Output, StringComparison.Ordinal);
        Assert.Contains(name, list.Output.Split('\n').Select(l => l.Trim()));
    }

    [Fact]
    public async Task CliSchedulesAndCancels()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("cli-schedule");
        await RunAsync("define", name, "--handler", Probe.Handler, "--args", $$"""{"run":"{{board.Id}}"}""");
        await RunAsync("start", name);

        var later = await RunAsync("in", name, "01:00:00");
        var at = await RunAsync("at", name, DateTimeOffset.UtcNow.AddHours(2).ToString("O"));
        var every = await RunAsync("every", name, "00:10:00", "--sync");
        var statusJson = await RunAsync("status", name, "--json");
        var cancelOne = await RunAsync("cancel", name, later.Output.Trim());
        var cancelAll = await RunAsync("cancel", name);
        var stop = await RunAsync("stop", name);

        Assert.All(new[] { later, at, every, statusJson, cancelOne, cancelAll, stop }, r => Assert.Equal(0, r.Exit));
        using var info = JsonDocument.Parse(statusJson.Output);
        Assert.Equal(2, info.RootElement.GetProperty("pending").GetInt32());
        Assert.Equal(board.Id, info.RootElement.GetProperty("definition").GetProperty("job").GetProperty("args").GetProperty("run").GetString());
        Assert.Equal("cancelled 1", cancelOne.Output.Trim());
        Assert.Equal("cancelled 1", cancelAll.Output.Trim());
    }

    [Fact]
    public async Task CliReportsRefusalsAndBadInputWithClearErrors()
    {
        var unknownHandler = await RunAsync("define", ClusterFixture.NewJobName("cli-bad"), "--handler", "not-registered");
        var badTime = await RunAsync("at", "x", "not-a-time");
        var badArgs = await RunAsync("perform", "x", "--args", "[1,2]");
        var undefined = await RunAsync("start", ClusterFixture.NewJobName("cli-undefined"));
        var badInterval = await RunAsync("every", ClusterFixture.NewJobName("cli-interval"), "00:00:00");

        Assert.Equal(1, unknownHandler.Exit);
        Assert.Contains("'not-registered'", unknownHandler.Error, StringComparison.Ordinal);
        Assert.Equal(2, badTime.Exit);
        Assert.Contains("not-a-time", badTime.Error, StringComparison.Ordinal);
        Assert.Equal(1, badArgs.Exit);
        Assert.Contains("JSON object", badArgs.Error, StringComparison.Ordinal);
        Assert.Equal(1, undefined.Exit);
        Assert.Contains("not defined", undefined.Error, StringComparison.Ordinal);
        Assert.Equal(1, badInterval.Exit);
    }

    [Fact]
    public async Task ConcurrentPerformInsShareCallsEachWithItsOwnArgsAndDelayAndTheLaneGoesWhenIdle()
    {
        var board = Probe.NewBoard();
        var name = ClusterFixture.NewJobName("client-in");
        var client = Client;
        await client.DefineAsync(name, new JobDefinition(new Job(Probe.Handler) { Args = Probe.Args(board) }) { MaxWorkers = 8, HistoryLimit = 500 });
        await client.StartAsync(name);
        var asked = DateTimeOffset.UtcNow;

        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => client.PerformInAsync(name, TimeSpan.FromMilliseconds(200), Probe.Args(board, status: i % 2 == 0 ? 444 : null)))));
        var done = await Task.WhenAll(ids.Select(id => client.WaitAsync(name, id)));

        Assert.Equal(200, ids.Distinct().Count());
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? JobStatus.NoResponse : JobStatus.Success, done[i].Status);
            Assert.True(done[i].ScheduledAt >= asked.AddMilliseconds(200), "due after its delay");
            Assert.True(done[i].StartedAt >= done[i].ScheduledAt, "never early");
        }

        await Eventually.WaitUntilAsync(() => Task.FromResult(client.OpenLanes == 0), "the idle lane was dropped");
    }

    [Fact]
    public async Task CliSaysWhenTheClusterCannotBeReached()
    {
        var cli = new WorkCli((address, _) => throw new InvalidOperationException($"no silo at {address.Gateway}"));
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = await cli.RunAsync(["--gateway", "127.0.0.1:1", "--cluster-id", "blue", "list"], output, error);

        Assert.Equal(3, exit);
        Assert.Contains("cannot reach the cluster at 127.0.0.1:1 (cluster 'blue'): no silo at 127.0.0.1:1", error.ToString(), StringComparison.Ordinal);
    }
}
