using Microsoft.Extensions.Options;

namespace Work.Hosting;

/// <summary>Turns an options class's own list of problems into an options validation result, naming every one.</summary>
internal sealed class ListedFailuresValidator<TOptions>(Func<TOptions, IReadOnlyList<string>> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = validate(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
