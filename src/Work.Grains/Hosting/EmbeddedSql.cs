using System.Reflection;

namespace Work.Hosting;

/// <summary>The SQL scripts a storage package embeds (its <c>Sql/</c> folder).</summary>
internal static class EmbeddedSql
{
    /// <summary>The text of one script of <paramref name="assembly"/>, by file name.</summary>
    public static string Read(Assembly assembly, string script)
    {
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("." + script, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
