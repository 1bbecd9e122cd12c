using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Work.Grains;

namespace Work.Hosting;

/// <summary>
/// Fails the silo's start when <see cref="WorkClusterOptions.DrainTimeout"/> is not below the host's shutdown timeout:
/// the drain would use up the whole stop, and the silo's grains would leave without writing their state.
/// </summary>
internal sealed class DrainWithinShutdown(IOptions<HostOptions> host) : IValidateOptions<WorkClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shutdown = host.Value.ShutdownTimeout;
        return options.DrainTimeout > TimeSpan.Zero && options.DrainTimeout >= shutdown
            ? ValidateOptionsResult.Fail(
                $"{WorkClusterOptions.SectionName}:{nameof(WorkClusterOptions.DrainTimeout)} must be below the host's ShutdownTimeout ({shutdown}), "
                + $"which also bounds the rest of the silo's stop; it is {options.DrainTimeout}.")
            : ValidateOptionsResult.Success;
    }
}
