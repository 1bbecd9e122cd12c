using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Work.Cli;

// Item sources: enqueue an item, and see a source's items and dead letters.
internal sealed partial class WorkCli
{
    private Command[] ItemCommands(Option<string?> argsOption)
    {
        var sourceName = new Argument<string>("source") { Description = "The item source's name." };
        var keyOption = new Option<string?>("--key") { Description = "An idempotency key: an item with a key the source holds is refused as a duplicate." };
        var enqueue = new Command("enqueue", "Enqueue an item to a source: the jobs reading it perform it once.") { sourceName, argsOption, keyOption };
        enqueue.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var item = new ItemRequest { Args = ParseArgs(parse.GetValue(argsOption)), IdempotencyKey = parse.GetValue(keyOption) };
            var result = (await client.EnqueueItemsAsync(parse.GetValue(sourceName)!, [item]))[0];
            await WriteAsync(parse, output, result, result.Duplicate ? $"duplicate of item {result.Id}" : $"enqueued item {result.Id}");
        }));

        var deadOption = new Option<int>("--dead") { Description = "Also list this many of the newest dead items." };
        var source = new Command("source", "Show a source's items: ready, claimed, acknowledged and dead.") { sourceName, deadOption };
        source.SetAction((parse, ct) => RunAsync(parse, ct, async (client, output) =>
        {
            var info = await client.GetSourceAsync(parse.GetValue(sourceName)!);
            var dead = parse.GetValue(deadOption) > 0 ? await client.GetDeadItemsAsync(parse.GetValue(sourceName)!, parse.GetValue(deadOption)) : [];
            if (parse.GetValue(_jsonOption))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new { info, dead }, s_json));
                return;
            }

            var invariant = CultureInfo.InvariantCulture;
            await Table.WriteAsync(output, null, [
                ["source", info.Source], ["ready", info.Ready.ToString(invariant)], ["claimed", info.Claimed.ToString(invariant)],
                ["acknowledged", info.Acknowledged.ToString(invariant)], ["dead", info.Dead.ToString(invariant)]]);
            if (dead.Count > 0)
            {
                await output.WriteLineAsync();
                await Table.WriteAsync(output, ["item", "deliveries", "status", "job", "dead at", "error"], dead.Select(d => new[]
                {
                    d.Item.Id.ToString(invariant), d.Item.Deliveries.ToString(invariant), ((int)d.Status).ToString(invariant), d.Job ?? "-",
                    d.DeadAt.ToString("O", invariant), d.Error ?? "",
                }).ToList());
            }
        }));

        return [enqueue, source];
    }
}
