using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Work.Scheduling;
using Xunit.Abstractions;

namespace Work.Tests.Simulation;

/// <summary>
/// The job's state machine (scheduler, store, group commit, the grain's pump) under thousands of seeded random
/// workloads over storage that fails, loses answers and is abandoned by dying activations. A failure names its seed;
/// <c>WORK_SIM_SEED=N</c> replays that one seed, <c>WORK_SIM_SEEDS=N</c> runs more, and <c>WORK_SIM_FIRST=N</c> starts
/// at seed N instead of 1 (fresh seeds).
/// </summary>
public sealed class CrashSimulationTests(ITestOutputHelper output)
{
    private const int Steps = 400;

    private static readonly Serializer s_serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobState).Assembly).AddAssembly(typeof(Job).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    [Fact]
    public void EveryAcknowledgedExecutionRunsOnceThroughCrashesFailuresAndRaces()
    {
        var (first, count) = Environment.GetEnvironmentVariable("WORK_SIM_SEED") is { Length: > 0 } one
            ? (int.Parse(one, CultureInfo.InvariantCulture), 1)
            : (int.Parse(Environment.GetEnvironmentVariable("WORK_SIM_FIRST") ?? "1", CultureInfo.InvariantCulture),
                int.Parse(Environment.GetEnvironmentVariable("WORK_SIM_SEEDS") ?? "2000", CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        long acknowledged = 0, starts = 0, repeats = 0, activations = 0, queued = 0, handedOver = 0, returned = 0;
        for (var seed = first; seed < first + count; seed++)
        {
            var simulation = new CrashSimulation(seed, s_serializer);
            IReadOnlyList<string> violations;
            try
            {
                violations = simulation.Run(Steps);
            }
            catch (Exception ex)
            {
                violations = [$"the simulation threw {ex}"];
            }

            if (violations.Count > 0)
            {
                if (Environment.GetEnvironmentVariable("WORK_SIM_TRACE") is { Length: > 0 } path)
                {
                    File.WriteAllText(path, simulation.Trace(int.MaxValue));
                }

                Assert.Fail(
                    $"Seed {seed}: {violations[0]}\nReplay it with WORK_SIM_SEED={seed}. The last steps:\n{simulation.Trace()}");
            }

            acknowledged += simulation.Acknowledged;
            starts += simulation.Starts;
            repeats += simulation.Repeats;
            activations += simulation.Activations;
            queued += simulation.Ahead.Queued;
            handedOver += simulation.Ahead.HandedOver;
            returned += simulation.Ahead.Returned;
        }

        output.WriteLine(
            $"{count} seeds of {Steps} steps in {clock.Elapsed.TotalSeconds:0.0} s: {acknowledged} executions acknowledged, " +
            $"{starts} attempts started ({repeats} started again after they ran), {activations} activations; " +
            $"sent ahead: {queued} queued, {handedOver} started in a slot handed over, {returned} given back");
        Assert.True(acknowledged > count, "the workload acknowledged executions");
        if (count >= 100)
        {
            Assert.True(queued > 0 && handedOver > 0 && returned > 0, "the workload sent runs ahead, handed slots over and gave runs back");
        }
    }
}
