using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Work.Client;

namespace Work.Http;

/// <summary>
/// Errors as RFC 7807 problem details: a bad value is 400 with the field it was in, a job or execution that does not
/// exist 404, a cluster that is getting over a silo's death or a database that does not answer 503 (try again).
/// </summary>
internal static class ApiProblems
{
    /// <summary>A value that is wrong, in the named field of the request.</summary>
    internal sealed class BadField(string field, string message) : ArgumentException(message, field)
    {
        public string Field { get; } = field;
    }

    public static async Task<IResult> RunAsync(Func<Task<IResult>> handle)
    {
        try
        {
            return await handle();
        }
        catch (BadField ex)
        {
            return Problem(StatusCodes.Status400BadRequest, "The request has a bad value.", ex.Message.Replace($" (Parameter '{ex.Field}')", "", StringComparison.Ordinal), ex.Field);
        }
        catch (ArgumentException ex)
        {
            // The grains' and the client's rules, with their messages; a parameter name is the field it came from.
            return Problem(StatusCodes.Status400BadRequest, "The request has a bad value.", Unparenthesized(ex), ex.ParamName);
        }
        catch (KeyNotFoundException ex)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found.", ex.Message, null);
        }
        catch (NotSupportedException ex)
        {
            // Something this cluster is not set up for (item sources without a database).
            return Problem(StatusCodes.Status501NotImplemented, "This cluster does not do that.", ex.Message, null);
        }
        catch (Exception ex) when (WorkClient.IsTransient(ex))
        {
            var problem = Problem(StatusCodes.Status503ServiceUnavailable, "The cluster could not answer now; try again.", ex.Message, null);
            return new RetryAfter(problem, seconds: 1);
        }
    }

    /// <summary>Reads a JSON body, or throws <see cref="BadField"/> naming where it went wrong.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            throw new BadField("body", "The body must be JSON (Content-Type: application/json).");
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, WorkApi.Json, cancellationToken)
                ?? throw new BadField("body", "The body must be a JSON object, not null.");
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.TrimStart('$', '.');
            throw new BadField(field, $"The body is not valid here ({field}): {FirstSentence(ex.Message)}");
        }
    }

    private static IResult Problem(int status, string title, string detail, string? field) => Results.Problem(
        statusCode: status,
        title: title,
        detail: detail,
        extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    private static string Unparenthesized(ArgumentException ex) =>
        ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;

    private static string FirstSentence(string message) => message.Split(" Path:", 2)[0];

    private sealed class RetryAfter(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
