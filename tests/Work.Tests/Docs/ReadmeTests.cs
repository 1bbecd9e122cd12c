using System.Text.RegularExpressions;

namespace Work.Tests.Docs;

/// <summary>
/// The README's C# is the samples' code, which the build compiles and the suite runs: every C# block in it names the
/// sample file it quotes, and is that file as it is.
/// </summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void EveryCSharpBlockIsASampleFileAsItIs()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        var blocks = CSharpBlock().Matches(readme);

        Assert.NotEmpty(blocks);
        foreach (Match block in blocks)
        {
            var source = block.Groups["source"];
            Assert.True(source.Success, $"A C# block in the README names no sample file (<!-- code: path --> before it):\n{block.Value[..Math.Min(200, block.Value.Length)]}");
            var file = Path.Combine(root, source.Value);
            Assert.True(File.Exists(file), $"The README quotes {source.Value}, which does not exist.");
            Assert.Equal(File.ReadAllText(file).ReplaceLineEndings("\n").TrimEnd(), block.Groups["code"].Value.TrimEnd());
        }
    }

    [Fact]
    public void TheReadmesCommandsUseTheInstalledTool()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

        Assert.Contains("dotnet tool install --global Work.Cli --add-source artifacts/packages", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("dotnet run --project src/Work.Client", readme, StringComparison.Ordinal);
        Assert.Matches(@"\nwork define mail --handler echo", readme);
    }

    private static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Work.Orleans.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException("Work.Orleans.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"(?:<!-- code: (?<source>[^ ]+) -->\n)?```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
