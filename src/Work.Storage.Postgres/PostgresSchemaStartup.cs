using Microsoft.Extensions.Logging;

namespace Work.Storage.Postgres;

/// <summary>
/// Applies the PostgreSQL schema as the silo's first start-up step, before Orleans' ADO.NET providers read their
/// queries from it. A database that cannot be reached stops the start with an error that names it.
/// </summary>
internal sealed partial class PostgresSchemaStartup(IEnumerable<PostgresSchemaStartup.Target> targets, ILogger<PostgresSchemaStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>A database whose schema the silo applies (storage and clustering may use different ones).</summary>
    internal sealed record Target(string ConnectionString);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), ServiceLifecycleStage.First, ApplyAsync);

    private async Task ApplyAsync(CancellationToken cancellationToken)
    {
        foreach (var target in targets.Distinct())
        {
            var where = PostgresSchema.Describe(target.ConnectionString);
            try
            {
                await PostgresSchema.ApplyAsync(target.ConnectionString, cancellationToken);
                LogApplied(logger, where);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new InvalidOperationException($"Could not apply the Work.Orleans schema to the {where}: {ex.Message}", ex);
            }
        }
    }

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "Applied the Work.Orleans schema to the {Database}")]
    private static partial void LogApplied(ILogger logger, string database);
}
