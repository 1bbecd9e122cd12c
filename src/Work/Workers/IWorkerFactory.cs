namespace Work.Workers;

/// <summary>Makes workers that share the registered handlers and adapters (go-work's <c>WorkerFactory</c>).</summary>
public interface IWorkerFactory
{
    /// <summary>Creates a worker, not yet started. Handlers registered on it later stay its own.</summary>
    IWorker CreateWorker(string? name = null);
}
