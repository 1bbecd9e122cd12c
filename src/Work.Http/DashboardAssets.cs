using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Work.Http;

/// <summary>
/// The dashboard's page, script and style, embedded in the assembly (no CDN, nothing fetched from elsewhere) and
/// served with a content security policy that allows only this origin.
/// </summary>
internal static class DashboardAssets
{
    private const string Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> s_types = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["app.js"] = "text/javascript; charset=utf-8",
        ["app.css"] = "text/css; charset=utf-8",
    };

    public static void Map(IEndpointRouteBuilder endpoints, string path, string apiPrefix)
    {
        var assets = s_types.Keys.ToDictionary(name => name, name => Read(name, apiPrefix), StringComparer.Ordinal);
        endpoints.MapGet(path + "/{file?}", (HttpContext http, string? file) =>
            {
                if (string.IsNullOrEmpty(file) && http.Request.Path.Value?.EndsWith('/') != true)
                {
                    // The page's relative addresses need the slash.
                    return Results.Redirect(http.Request.PathBase + path + "/");
                }

                var name = string.IsNullOrEmpty(file) ? "index.html" : file;
                if (!assets.TryGetValue(name, out var content))
                {
                    return Results.NotFound();
                }

                http.Response.Headers.ContentSecurityPolicy = Policy;
                http.Response.Headers.XContentTypeOptions = "nosniff";
                http.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(content, s_types[name]);
            })
            .AllowAnonymous()
            .ExcludeFromDescription();
    }

    // The page learns where the API is from a meta tag, so a host that maps it elsewhere still works.
    private static byte[] Read(string name, string apiPrefix)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("Work.Http.Dashboard." + name)
            ?? throw new InvalidOperationException($"The dashboard's {name} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return System.Text.Encoding.UTF8.GetBytes(name == "index.html" ? text.Replace("{{api}}", apiPrefix, StringComparison.Ordinal) : text);
    }
}
