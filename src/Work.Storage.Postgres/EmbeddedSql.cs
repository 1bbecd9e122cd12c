namespace Work.Storage.Postgres;

/// <summary>The project's SQL scripts (deploy/sqlite and deploy/postgres), embedded in this assembly.</summary>
internal static class EmbeddedSql
{
    /// <summary>The text of one script, by file name.</summary>
    public static string Read(string script)
    {
        var assembly = typeof(EmbeddedSql).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("." + script, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
