using System.CommandLine;
using System.Text.Json;
using Work.Client;
using Work.Cluster;

namespace Work.Cli;

/// <summary>
/// The <c>work</c> command line: define, start, stop, perform, at, in, every, cron, cancel, status, list and history (and
/// enqueue and source, in <c>WorkCli.Items.cs</c>) against a
/// running cluster. Tables by default, JSON with <c>--json</c>. Exit codes: 0 done, 1 the cluster refused the request
/// (the message says why), 2 bad command line, 3 the cluster could not be reached within <c>--timeout</c> (or could
/// not reach its database).
/// </summary>
internal sealed partial class WorkCli
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly Func<ClusterAddress, CancellationToken, Task<WorkClient>> _connect;
    private readonly Option<bool> _jsonOption = new("--json") { Description = "Write JSON instead of tables." };
    private readonly Option<string> _gatewayOption = new("--gateway")
    {
        Description = "The gateway of a silo, host:port (an IP address or a host name).",
        DefaultValueFactory = _ => "127.0.0.1:30000",
        Recursive = true,
    };

    private readonly Option<TimeSpan> _timeoutOption = new("--timeout")
    {
        Description = "How long to try to reach the cluster before giving up (exit code 3), e.g. 00:00:10.",
        DefaultValueFactory = _ => ClusterAddress.DefaultTimeout,
        Recursive = true,
    };

    private readonly Option<string> _clusterIdOption = new("--cluster-id")
    {
        Description = "The cluster's id (the silos' Work:Silo:ClusterId).",
        DefaultValueFactory = _ => WorkDefaults.ClusterId,
        Recursive = true,
    };

    private readonly Option<string?> _tlsCertOption = new("--tls-cert")
    {
        Description = "Connect over mutual TLS with this client certificate (.pfx, or PEM with --tls-key); needs --tls-ca.",
        Recursive = true,
    };

    private readonly Option<string?> _tlsKeyOption = new("--tls-key") { Description = "The PEM private key of a PEM --tls-cert.", Recursive = true };

    private readonly Option<string?> _tlsCaOption = new("--tls-ca")
    {
        Description = "The certificate authority the gateways' certificates must chain to (with --tls-cert).",
        Recursive = true,
    };

    /// <summary>Creates the command line over a way to connect, given the gateway and cluster id options' values.</summary>
    public WorkCli(Func<ClusterAddress, CancellationToken, Task<WorkClient>> connect)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _jsonOption.Recursive = true;
        _gatewayOption.Validators.Add(result =>
        {
            if (ClusterConnector.GatewayProblem(result.GetValueOrDefault<string>()) is { } problem)
            {
                result.AddError(problem);
            }
        });
        _timeoutOption.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<TimeSpan>() is var timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromHours(1)))
            {
                result.AddError($"--timeout must be positive and at most one hour; it is {timeout}.");
            }
        });
        Root = Build();
    }

    /// <summary>The root command.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses and runs <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(error);
        var parse = Root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}");
            }

            await error.WriteLineAsync("Run 'work --help' to see the commands and their options.");
            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    private RootCommand Build()
    {
        var root = new RootCommand("Drive a Work.Orleans cluster: define jobs, perform them, and see what they did.");
        root.Options.Add(_gatewayOption);
        root.Options.Add(_clusterIdOption);
        root.Options.Add(_timeoutOption);
        root.Options.Add(_tlsCertOption);
        root.Options.Add(_tlsKeyOption);
        root.Options.Add(_tlsCaOption);
        root.Options.Add(_jsonOption);

        var name = new Argument<string>("name") { Description = "The job's name." };
        var argsOption = new Option<string?>("--args") { Description = "Arguments as a JSON object, e.g. '{\"to\":\"a@b.c\"}'." };

        var handler = new Option<string>("--handler") { Description = "The registered handler that performs the job.", Required = true };
        var queue = new Option<string>("--queue") { Description = "The queue.", DefaultValueFactory = _ => Job.DefaultQueue };
        var timeout = new Option<TimeSpan?>("--job-timeout") { Description = "The timeout of each execution, e.g. 00:00:30." };
        var maxWorkers = new Option<int>("--max-workers") { Description = "The most executions at once across the cluster.", DefaultValueFactory = _ => 1 };
        var startInterval = new Option<TimeSpan>("--start-interval") { Description = "One more worker allowed every interval after start." };
        var everyOption = new Option<TimeSpan?>("--every") { Description = "Recur every interval, e.g. 00:00:05." };
        var syncOption = new Option<bool>("--sync") { Description = "Recurring runs never overlap." };
        var firstRunOption = new Option<DateTimeOffset?>("--first-run") { Description = "With --every: the first run's time, e.g. 2026-12-01T09:00:00Z; later runs follow every interval." };
        var maxAttempts = new Option<int>("--max-attempts") { Description = "Attempts in all; 1 means no retries.", DefaultValueFactory = _ => 1 };
        var misfire = new Option<MisfirePolicy>("--misfire") { Description = "What to do with recurring due times missed while down.", DefaultValueFactory = _ => MisfirePolicy.FireOnce };
        var receiveOption = new Option<string?>("--receive") { Description = "Perform the job once for every item enqueued to this source." };
        var streamOption = new Option<string?>("--stream") { Description = "Perform the job once for every item of its stream on this stream provider (the silos' is 'work')." };
        var define = new Command("define", "Define a job, or update its definition.") { name, handler, argsOption, queue, timeout, maxWorkers, startInterval, everyOption, syncOption, firstRunOption, maxAttempts, misfire, receiveOption, streamOption };
        define.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            if (parse.GetValue(receiveOption) is not null && parse.GetValue(streamOption) is not null)
            {
                throw new ArgumentException("--receive and --stream cannot go together: a job reads one source.");
            }

            if (parse.GetValue(firstRunOption) is not null && parse.GetValue(everyOption) is null)
            {
                throw new ArgumentException("--first-run gives the first run of a recurring schedule: give --every too.");
            }

            var definition = new JobDefinition(new Job(parse.GetValue(handler)!)
            {
                Args = ParseArgs(parse.GetValue(argsOption)) ?? JobArgs.Empty,
                Queue = parse.GetValue(queue)!,
                Timeout = parse.GetValue(timeout),
            })
            {
                MaxWorkers = parse.GetValue(maxWorkers),
                StartInterval = parse.GetValue(startInterval),
                Every = parse.GetValue(everyOption) is { } every ? new EverySchedule { Interval = every, Sync = parse.GetValue(syncOption), FirstRun = parse.GetValue(firstRunOption) } : null,
                Retry = parse.GetValue(maxAttempts) == 1 ? RetryPolicy.None : new RetryPolicy { MaxAttempts = parse.GetValue(maxAttempts) },
                Misfire = parse.GetValue(misfire),
                Receive = parse.GetValue(receiveOption) is { } receive ? new ReceiveBinding(receive)
                    : parse.GetValue(streamOption) is { } stream ? ReceiveBinding.FromStream(stream)
                    : null,
            };
            await client.DefineAsync(parse.GetValue(name)!, definition);
            await WriteAsync(parse, output, new { defined = parse.GetValue(name) }, $"defined {parse.GetValue(name)}");
        }));

        var start = new Command("start", "Start a job.") { name };
        start.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            await client.StartAsync(parse.GetValue(name)!);
            await WriteAsync(parse, output, new { started = parse.GetValue(name) }, $"started {parse.GetValue(name)}");
        }));

        var stop = new Command("stop", "Stop a job: cancel its schedule and pending runs.") { name };
        stop.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            await client.StopAsync(parse.GetValue(name)!);
            await WriteAsync(parse, output, new { stopped = parse.GetValue(name) }, $"stopped {parse.GetValue(name)}");
        }));

        var delete = new Command("delete", "Delete a job: its schedules, pending runs, history and state.") { name };
        delete.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            await client.DeleteAsync(parse.GetValue(name)!);
            await WriteAsync(parse, output, new { deleted = parse.GetValue(name) }, $"deleted {parse.GetValue(name)}");
        }));

        var asyncOption = new Option<bool>("--async") { Description = "Return the execution id once accepted instead of waiting." };
        var perform = new Command("perform", "Perform a job now and wait for the result.") { name, argsOption, asyncOption };
        perform.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var job = parse.GetValue(name)!;
            var args = ParseArgs(parse.GetValue(argsOption));
            if (parse.GetValue(asyncOption))
            {
                var id = await client.EnqueueAsync(job, args);
                await WriteAsync(parse, output, new { executionId = id }, id);
                return;
            }

            var execution = await client.PerformAsync(job, args, ct);
            await WriteExecutionsAsync(parse, output, [execution]);
        }));

        var time = new Argument<DateTimeOffset>("time") { Description = "When, e.g. 2026-12-01T09:00:00Z." };
        var at = new Command("at", "Perform a job once at a time.") { name, time, argsOption };
        at.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var id = await client.PerformAtAsync(parse.GetValue(name)!, parse.GetValue(time), ParseArgs(parse.GetValue(argsOption)));
            await WriteAsync(parse, output, new { executionId = id }, id);
        }));

        var delay = new Argument<TimeSpan>("delay") { Description = "How long from now, e.g. 00:05:00." };
        var inCommand = new Command("in", "Perform a job once after a delay.") { name, delay, argsOption };
        inCommand.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var id = await client.PerformInAsync(parse.GetValue(name)!, parse.GetValue(delay), ParseArgs(parse.GetValue(argsOption)));
            await WriteAsync(parse, output, new { executionId = id }, id);
        }));

        var interval = new Argument<TimeSpan>("interval") { Description = "The interval, e.g. 00:00:01 or 00:00:00.250." };
        var every = new Command("every", "Perform a job every interval while it is started.") { name, interval, syncOption };
        every.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            await client.PerformEveryAsync(parse.GetValue(name)!, parse.GetValue(interval), parse.GetValue(syncOption));
            await WriteAsync(parse, output, new { every = parse.GetValue(interval) }, $"{parse.GetValue(name)} every {parse.GetValue(interval)}");
        }));

        var expression = new Argument<string>("expression") { Description = "A cron expression: 5 fields, or 6 with seconds first, e.g. '0 0 9 * * MON-FRI'." };
        var timeZoneOption = new Option<string?>("--time-zone") { Description = "The expression's time zone, an IANA id like Europe/Berlin (UTC by default)." };
        var cron = new Command("cron", "Perform a job at the times a cron expression names while it is started.") { name, expression, timeZoneOption, syncOption };
        cron.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var (job, text, zone) = (parse.GetValue(name)!, parse.GetValue(expression)!, parse.GetValue(timeZoneOption));
            await client.PerformCronAsync(job, text, zone, parse.GetValue(syncOption));
            var times = (await client.GetInfoAsync(job)).NextDueTimes;
            DateTimeOffset? next = times.Count > 0 ? times[0] : null;
            await WriteAsync(parse, output, new { cron = text, timeZone = zone ?? "UTC", next }, $"{job} at '{text}' ({zone ?? "UTC"}); next {next:O}");
        }));

        var executionId = new Argument<string?>("execution-id") { Description = "The execution to cancel; all when left out.", Arity = ArgumentArity.ZeroOrOne };
        var cancel = new Command("cancel", "Cancel one execution, or all pending and running ones.") { name, executionId };
        cancel.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var count = await client.CancelAsync(parse.GetValue(name)!, parse.GetValue(executionId));
            await WriteAsync(parse, output, new { cancelled = count }, $"cancelled {count}");
        }));

        var status = new Command("status", "Show a job's state.") { name };
        status.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var info = await client.GetInfoAsync(parse.GetValue(name)!);
            if (parse.GetValue(_jsonOption))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(info, s_json));
                return;
            }

            var definition = info.Definition;
            var rows = new List<string[]>
            {
                new[] { "job", info.Name },
                new[] { "defined", definition is null ? "no" : "yes" },
                new[] { "handler", definition?.Job.Handler ?? "-" },
                new[] { "started", info.Started ? "yes" : "no" },
                new[] { "workers", $"{info.RunningWorkers} running of {info.AllowedWorkers} allowed (max {definition?.MaxWorkers.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})" },
                new[] { "every", definition?.Every is { } e ? $"{(e.Cron is null ? e.Interval.ToString() : $"cron '{e.Cron}' {e.TimeZone ?? "UTC"}")}{(e.Sync ? " sync" : "")}" : "-" },
                new[] { "pending", info.Pending.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new[] { "next due", info.NextDueTimes.Count == 0 ? "-" : string.Join(", ", info.NextDueTimes.Take(3).Select(t => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture))) },
                new[] { "finished", info.Finished.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new[] { "skipped ticks", info.SkippedTicks.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new[] { "lost", info.Lost.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                new[] { "silo", info.Silo ?? "-" },
                new[] { "waiting", info.Waiting ?? "-" },
                new[] { "receives", definition?.Receive is { } r ? $"{(r.Kind == SourceKind.Stream ? "stream on provider" : "source")} '{r.Source}', {info.HeldItems} items held" : "-" },
            };
            await Table.WriteAsync(output, null, rows);
        }));

        var list = new Command("list", "List the defined jobs.");
        list.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var names = await client.ListAsync();
            if (parse.GetValue(_jsonOption))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(names, s_json));
                return;
            }

            foreach (var jobName in names)
            {
                await output.WriteLineAsync(jobName);
            }
        }));

        var count = new Option<int>("--count") { Description = $"How many executions, 0 to {JobDefinition.MaxHistoryLimit}.", DefaultValueFactory = _ => 20 };
        count.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is var value && (value < 0 || value > JobDefinition.MaxHistoryLimit))
            {
                result.AddError($"--count must be between 0 and {JobDefinition.MaxHistoryLimit}; it is {value}.");
            }
        });
        var history = new Command("history", "Show a job's last executions, newest first.") { name, count };
        history.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
            await WriteExecutionsAsync(parse, output, await client.GetHistoryAsync(parse.GetValue(name)!, parse.GetValue(count)))));

        foreach (var command in new[] { define, start, stop, delete, perform, at, inCommand, every, cron, cancel, status, list, history }.Concat(ItemCommands(argsOption)))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static JobArgs? ParseArgs(string? json) => json is null ? null : JobArgs.Parse(json);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "Mirrors SetAction's (parseResult, cancellationToken) so each command reads top to bottom.")]
    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<WorkClient, TextWriter, Task> action)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var tls = parse.GetValue(_tlsCertOption) is not null || parse.GetValue(_tlsCaOption) is not null
            ? new WorkTlsOptions { Enabled = true, CertificatePath = parse.GetValue(_tlsCertOption), KeyPath = parse.GetValue(_tlsKeyOption), CaPath = parse.GetValue(_tlsCaOption) }
            : null;
        if (tls?.Validate() is { Count: > 0 } tlsProblems)
        {
            await error.WriteLineAsync("error: " + string.Join(" ", tlsProblems).Replace("Work:Tls:CertificatePath", "--tls-cert", StringComparison.Ordinal)
                .Replace("Work:Tls:KeyPath", "--tls-key", StringComparison.Ordinal).Replace("Work:Tls:CaPath", "--tls-ca", StringComparison.Ordinal));
            return 2;
        }

        var address = new ClusterAddress(parse.GetValue(_gatewayOption)!, parse.GetValue(_clusterIdOption)!) { Timeout = parse.GetValue(_timeoutOption), Tls = tls };
        WorkClient client;
        try
        {
            client = await _connect(address, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"error: cannot reach the cluster at {address}: {ex.Message}");
            return 3;
        }

        try
        {
            await action(client, output);
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            await error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (WorkClient.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"error: the cluster at {address} did not answer: {ex.Message}");
            return 3;
        }
    }

    private Task WriteAsync(ParseResult parse, TextWriter output, object json, string text) =>
        output.WriteLineAsync(parse.GetValue(_jsonOption) ? JsonSerializer.Serialize(json, s_json) : text);

    private async Task WriteExecutionsAsync(ParseResult parse, TextWriter output, IReadOnlyList<JobExecution> executions)
    {
        if (parse.GetValue(_jsonOption))
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(executions, s_json));
            return;
        }

        var rows = executions.Select(e => new[]
        {
            e.ExecutionId,
            e.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"{(int)e.Status} {e.Status}",
            e.StartedAt.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture),
            $"{e.Duration.TotalMilliseconds:0.0} ms".Replace(',', '.'),
            e.Worker,
            e.Error ?? "",
        }).ToList();
        await Table.WriteAsync(output, ["execution", "attempt", "status", "started", "took", "worker", "error"], rows);
    }
}

/// <summary>Where the CLI connects: a silo's gateway (host:port) and the cluster's id, and how long it tries.</summary>
internal sealed record ClusterAddress(string Gateway, string ClusterId)
{
    /// <summary>How long connecting is tried by default: 10 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long connecting is tried before giving up.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Mutual TLS to the gateway, or null for plain connections.</summary>
    public WorkTlsOptions? Tls { get; init; }

    /// <inheritdoc />
    public override string ToString() => ClusterId == WorkDefaults.ClusterId ? Gateway : $"{Gateway} (cluster '{ClusterId}')";
}
