using Microsoft.Extensions.Diagnostics.HealthChecks;
using Work.Scheduling;

namespace Work.Hosting;

/// <summary>Ready when this silo is an active member of its cluster: it takes grain calls and runs executions.</summary>
internal sealed class MembershipReadiness(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var status = snapshot.GetSiloStatus(silo.SiloAddress);
        var active = snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        var description = $"This silo ({silo.SiloAddress}) is {status}; {active} active in the cluster.";
        return Task.FromResult(status == SiloStatus.Active ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description));
    }
}

/// <summary>Ready when the job storage answers a read within a few seconds.</summary>
internal sealed class StorageReadiness(IServiceProvider services, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);
    private static readonly GrainId s_probe = GrainId.Create("work.readiness", "storage");

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        try
        {
            var records = await GrainStorageRecords.For(services).OpenAsync(s_probe).WaitAsync(s_timeout, time, cancellationToken);
            await records.ReadAsync("probe", new GrainState<JobState>()).WaitAsync(s_timeout, time, cancellationToken);
            return HealthCheckResult.Healthy($"The job storage answered a read in {time.GetElapsedTime(started).TotalMilliseconds:0} ms.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The job storage did not answer a read: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }
}
