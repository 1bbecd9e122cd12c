using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Work.Client;

namespace Work.Http;

/// <summary>
/// The JSON API under a prefix (<c>/api</c> by default): jobs and their executions, with the same rules and messages as
/// the grains and the CLI. Reading needs the <see cref="WorkAuthorization.Read"/> policy, changing anything
/// <see cref="WorkAuthorization.Operate"/>; errors are RFC 7807 problem details (see <see cref="ApiProblems"/>).
/// </summary>
internal static class WorkApi
{
    /// <summary>How long a perform with <c>wait=true</c> waits for its result before it answers 202 with the id.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var api = endpoints.MapGroup(prefix).WithTags("Work");
        var read = api.MapGroup("").RequireAuthorization(WorkAuthorization.Read);
        var operate = api.MapGroup("").RequireAuthorization(WorkAuthorization.Operate);

        read.MapGet("/jobs", ListAsync).WithName("ListJobs").WithSummary("Every job with its state, in name order, a page at a time.");
        read.MapGet("/jobs/{name}", (WorkClient work, string name, CancellationToken ct) => ApiProblems.RunAsync(async () => Ok(await work.GetInfoAsync(name, ct))))
            .WithName("GetJob").WithSummary("One job: definition, state, running and allowed workers, pending count, next due times, counters.");
        read.MapGet("/jobs/{name}/history", (WorkClient work, string name, int? skip, int? count, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(await work.GetHistoryAsync(name, skip ?? 0, count ?? 20, ct))))
            .WithName("GetHistory").WithSummary("Finished executions, newest first (skip, count; 20 by default).");
        read.MapGet("/jobs/{name}/pending", (WorkClient work, string name, int? skip, int? count, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(await work.GetPendingAsync(name, skip ?? 0, count ?? 100, ct))))
            .WithName("GetPending").WithSummary("Executions not finished: running first, then waiting, earliest due first (skip, count; 100 by default).");
        read.MapGet("/jobs/{name}/executions/{id}", (WorkClient work, string name, string id, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(await work.GetExecutionAsync(name, id, ct))))
            .WithName("GetExecution").WithSummary("Where one execution stands: pending, running, or finished with its record.");

        read.MapGet("/me", async (HttpContext http, IAuthorizationService authorization) =>
                Ok(new Caller(http.User.Identity?.Name ?? "anonymous", WorkAuthorization.RoleName(await WorkAuthorization.RoleOfAsync(authorization, http.User)))))
            .WithName("Me").WithSummary("Who the caller is and what they may do.");
        read.MapGet("/silos", (IGrainFactory grains, CancellationToken ct) => ApiProblems.RunAsync(async () => Ok(await SilosAsync(grains, ct))))
            .WithName("ListSilos").WithSummary("The cluster's silos and their status.");
        read.MapGet("/stream", (HttpContext http, WorkClient work, IGrainFactory grains) =>
                LiveUpdates.StreamAsync(http, async ct => new Overview(await JobsAsync(work, null, LiveUpdates.MaxJobs, ct), await SilosAsync(grains, ct))))
            .WithName("StreamOverview").WithSummary("Server-sent events: the jobs (the first 500) and the silos, every second.");
        read.MapGet("/jobs/{name}/stream", (HttpContext http, WorkClient work, string name) =>
                LiveUpdates.StreamAsync(http, async ct => new JobDetail(
                    await work.GetInfoAsync(name, ct),
                    await work.GetHistoryAsync(name, 0, LiveUpdates.RecentExecutions, ct),
                    await work.GetPendingAsync(name, 0, 20, ct))))
            .WithName("StreamJob").WithSummary("Server-sent events: the job, its recent executions and what runs or waits, every second.");

        operate.MapPut("/jobs/{name}", DefineAsync).WithName("DefineJob").WithSummary("Defines or updates a job (body: a job definition).");
        operate.MapDelete("/jobs/{name}", (WorkClient work, string name, CancellationToken ct) => ApiProblems.RunAsync(async () =>
            {
                await work.DeleteAsync(name, ct);
                return Results.NoContent();
            }))
            .WithName("DeleteJob").WithSummary("Deletes a job: its schedule, pending executions, history and state.");
        operate.MapPost("/jobs/{name}/start", (WorkClient work, string name, CancellationToken ct) => ApiProblems.RunAsync(async () =>
            {
                await work.StartAsync(name, ct);
                return Ok(await work.GetInfoAsync(name, ct));
            }))
            .WithName("StartJob").WithSummary("Starts a job.");
        operate.MapPost("/jobs/{name}/stop", (WorkClient work, string name, CancellationToken ct) => ApiProblems.RunAsync(async () =>
            {
                await work.StopAsync(name, ct);
                return Ok(await work.GetInfoAsync(name, ct));
            }))
            .WithName("StopJob").WithSummary("Stops a job: nothing new starts; what is pending is cancelled and what runs is signalled.");
        operate.MapPost("/jobs/{name}/perform", PerformAsync)
            .WithName("Perform").WithSummary("Performs one execution now, at a time (at) or after a delay (in); with wait=true, answers with its result.");
        operate.MapPost("/jobs/{name}/every", EveryAsync).WithName("PerformEvery").WithSummary("Sets the job's recurring schedule: an interval, or a cron expression in a time zone (interval or cron, timeZone, sync).");
        operate.MapPost("/jobs/{name}/cancel", (WorkClient work, string name, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(new CancelResult(await work.CancelAsync(name, null, ct)))))
            .WithName("CancelAll").WithSummary("Cancels every pending and running execution of the job.");
        operate.MapPost("/jobs/{name}/executions/{id}/cancel", (WorkClient work, string name, string id, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(new CancelResult(await work.CancelAsync(name, id, ct)))))
            .WithName("Cancel").WithSummary("Cancels one execution: pending, it never runs; running, its token is signalled.");
        read.MapGet("/sources/{source}", (WorkClient work, string source, CancellationToken ct) => ApiProblems.RunAsync(async () => Ok(await work.GetSourceAsync(source, ct))))
            .WithName("GetSource").WithSummary("How many items of a source are ready, claimed, acknowledged and dead.");
        read.MapGet("/sources/{source}/dead", (WorkClient work, string source, int? count, CancellationToken ct) =>
                ApiProblems.RunAsync(async () => Ok(await work.GetDeadItemsAsync(source, count ?? 20, ct))))
            .WithName("GetDeadItems").WithSummary("The newest items of a source's dead letter table, newest first (count, at most 1000).");
        operate.MapPost("/sources/{source}/items", EnqueueItemsAsync)
            .WithName("EnqueueItems").WithSummary("Enqueues items to a source (body: { items: [ { args, idempotencyKey } ] }); each becomes one execution of the jobs reading it.");
        return api;
    }

    internal static IResult Ok<T>(T value) => Results.Json(value, Json);

    private static Task<IResult> ListAsync(WorkClient work, string? after, int? count, CancellationToken ct) =>
        ApiProblems.RunAsync(async () => Ok(await JobsAsync(work, after, count ?? 100, ct)));

    private static async Task<JobPage> JobsAsync(WorkClient work, string? after, int count, CancellationToken ct)
    {
        var names = await work.ListAsync(after, count, ct);
        var infos = await Task.WhenAll(names.Select(name => work.GetInfoAsync(name, ct)));
        return new JobPage(infos, names.Count == count ? names[^1] : null);
    }

    private static async Task<IReadOnlyList<SiloInfo>> SilosAsync(IGrainFactory grains, CancellationToken ct)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(false, ct);
        return hosts.Select(h => new SiloInfo(h.Key.ToParsableString(), h.Value.ToString().ToLowerInvariant()))
            .OrderBy(s => s.Status == "active" ? 0 : 1).ThenBy(s => s.Address, StringComparer.Ordinal).ToList();
    }

    private static Task<IResult> DefineAsync(WorkClient work, string name, HttpRequest request, CancellationToken ct) => ApiProblems.RunAsync(async () =>
    {
        var definition = await ApiProblems.ReadAsync<JobDefinition>(request, ct);
        if (definition.Job is null)
        {
            throw new ApiProblems.BadField("job", "The definition needs a job: { \"job\": { \"handler\": \"...\" } }.");
        }

        await work.DefineAsync(name, definition, ct);
        return Ok(await work.GetInfoAsync(name, ct));
    });

    private static Task<IResult> PerformAsync(WorkClient work, string name, bool? wait, HttpRequest request, CancellationToken ct) => ApiProblems.RunAsync(async () =>
    {
        var body = request.ContentLength is 0 ? new PerformBody() : await ApiProblems.ReadAsync<PerformBody>(request, ct);
        if (body.At is not null && body.In is not null)
        {
            throw new ApiProblems.BadField("in", "Give a time (at) or a delay (in), not both.");
        }

        var id = body switch
        {
            { At: { } at } => await work.PerformAtAsync(name, at, body.Args, ct),
            { In: { } delay } => await work.PerformInAsync(name, delay, body.Args, ct),
            _ => await work.EnqueueAsync(name, body.Args, ct),
        };
        if (wait != true)
        {
            return Results.Json(new Accepted(id), Json, statusCode: StatusCodes.Status202Accepted);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(MaxWait);
        try
        {
            return Ok(await work.WaitAsync(name, id, timeout.Token));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Still running: the caller follows it by id.
            return Results.Json(new Accepted(id), Json, statusCode: StatusCodes.Status202Accepted);
        }
    });

    private static Task<IResult> EnqueueItemsAsync(WorkClient work, string source, HttpRequest request, CancellationToken ct) => ApiProblems.RunAsync(async () =>
    {
        var body = await ApiProblems.ReadAsync<ItemsBody>(request, ct);
        if (body.Items is not { Count: > 0 } items)
        {
            throw new ApiProblems.BadField("items", "Give the items to enqueue: { \"items\": [ { \"args\": { ... }, \"idempotencyKey\": \"...\" } ] }.");
        }

        return Results.Json(new ItemsEnqueued(await work.EnqueueItemsAsync(source, items, ct)), Json, statusCode: StatusCodes.Status201Created);
    });

    private static Task<IResult> EveryAsync(WorkClient work, string name, HttpRequest request, CancellationToken ct) => ApiProblems.RunAsync(async () =>
    {
        var body = await ApiProblems.ReadAsync<EveryBody>(request, ct);
        if (body.Cron is { } cron)
        {
            if (body.Interval is not null)
            {
                throw new ApiProblems.BadField("cron", "Give an interval or a cron expression, not both.");
            }

            await work.PerformCronAsync(name, cron, body.TimeZone, body.Sync, ct);
            return Ok(await work.GetInfoAsync(name, ct));
        }

        if (body.Interval is not { } interval)
        {
            throw new ApiProblems.BadField("interval", "Give the schedule's interval, like \"00:01:00\", or a cron expression (cron, timeZone).");
        }

        await work.PerformEveryAsync(name, interval, body.Sync, ct);
        return Ok(await work.GetInfoAsync(name, ct));
    });

    /// <summary>A page of jobs, and the name to ask for the next page after (null on the last page).</summary>
    internal sealed record JobPage(IReadOnlyList<JobInfo> Jobs, string? Next);

    /// <summary>A silo of the cluster, by address, and its membership status.</summary>
    internal sealed record SiloInfo(string Address, string Status);

    /// <summary>What the dashboard's overview shows.</summary>
    internal sealed record Overview(JobPage Jobs, IReadOnlyList<SiloInfo> Silos);

    /// <summary>What a job's page shows.</summary>
    internal sealed record JobDetail(JobInfo Job, IReadOnlyList<JobExecution> Recent, IReadOnlyList<ExecutionState> Pending);

    /// <summary>The caller, and whether they may change anything.</summary>
    internal sealed record Caller(string Name, string Role);

    /// <summary>Items to enqueue to a source.</summary>
    internal sealed record ItemsBody(List<ItemRequest>? Items);

    /// <summary>What enqueueing each item did, in the order given.</summary>
    internal sealed record ItemsEnqueued(IReadOnlyList<EnqueuedItem> Items);

    /// <summary>An accepted execution's id.</summary>
    internal sealed record Accepted(string ExecutionId);

    /// <summary>How many executions a cancel reached.</summary>
    internal sealed record CancelResult(int Cancelled);

    /// <summary>A perform: args, and a time (at) or a delay (in), or neither for now.</summary>
    internal sealed record PerformBody
    {
        public JobArgs? Args { get; init; }

        public DateTimeOffset? At { get; init; }

        public TimeSpan? In { get; init; }
    }

    /// <summary>A recurring schedule.</summary>
    internal sealed record EveryBody
    {
        public TimeSpan? Interval { get; init; }

        public string? Cron { get; init; }

        public string? TimeZone { get; init; }

        public bool Sync { get; init; }
    }
}
