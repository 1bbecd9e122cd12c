using System.Globalization;
using Work.Torture;

// A torture run, not part of the test suite: 3 silo processes on a PostgreSQL cluster under mixed load (performs,
// PerformIn, recurring jobs) while a random silo is SIGKILLed every few seconds and started again on its ports.
// At the end it waits for every acknowledged execution and prints the lost ones and the duplicates by execution id.
//
//   dotnet run -c Release --project tests/Work.Torture -- [--minutes 5] [--kill-every 00:00:05] [--postgres "Host=..."]
var minutes = 5.0;
var killEvery = TimeSpan.FromSeconds(5);
string? postgres = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--minutes":
            minutes = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--kill-every":
            killEvery = TimeSpan.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--postgres":
            postgres = args[++i];
            break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Use --minutes N, --kill-every hh:mm:ss, --postgres CONNECTION-STRING.");
            return 2;
    }
}

await using var run = new TortureRun(TimeSpan.FromMinutes(minutes), killEvery, postgres);
var report = await run.RunAsync();
Console.WriteLine(report);
return report.Lost == 0 && report.DuplicateSuccesses == 0 ? 0 : 1;
