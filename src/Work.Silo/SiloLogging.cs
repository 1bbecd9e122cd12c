using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Work.Silo;

/// <summary>How the silo logs executions (<c>Work:Logging</c>).</summary>
internal sealed class SiloLogging
{
    public const string SectionName = "Work:Logging";

    /// <summary>The level of a successful execution's line: Debug by default, so a busy silo logs its failures only.</summary>
    public LogLevel SuccessLevel { get; private init; } = LogLevel.Debug;

    public static SiloLogging Read(IConfiguration configuration, List<string> failures)
    {
        var value = configuration[$"{SectionName}:{nameof(SuccessLevel)}"];
        if (value is null)
        {
            return new SiloLogging();
        }

        if (Enum.TryParse<LogLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level) && level != LogLevel.None && !char.IsAsciiDigit(value.FirstOrDefault()))
        {
            return new SiloLogging { SuccessLevel = level };
        }

        failures.Add($"{SectionName}:{nameof(SuccessLevel)} must be Trace, Debug, Information, Warning, Error or Critical; it is '{value}'.");
        return new SiloLogging();
    }
}
