namespace Work.Cli;

/// <summary>Plain aligned columns for terminal output.</summary>
internal static class Table
{
    public static async Task WriteAsync(TextWriter output, string[]? header, IReadOnlyList<string[]> rows)
    {
        var all = header is null ? rows : [header, .. rows];
        if (all.Count == 0)
        {
            return;
        }

        var widths = new int[all.Max(r => r.Length)];
        foreach (var row in all)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in all)
        {
            var line = string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i])));
            await output.WriteLineAsync(line.TrimEnd());
        }
    }
}
