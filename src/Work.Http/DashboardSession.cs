using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Work.Http;

/// <summary>
/// The dashboard's session: the browser presents an API key or token once (<c>POST /api/session</c>) and gets an
/// HttpOnly, SameSite=Strict cookie with the caller's name and role for 8 hours, which the dashboard's requests, its
/// live updates and Orleans' dashboard then carry. The key itself is kept nowhere in the browser.
/// </summary>
internal static class DashboardSession
{
    public const string SchemeName = "WorkSession";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static void Configure(CookieAuthenticationOptions cookie)
    {
        cookie.Cookie.Name = "work.session";
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Strict;
        cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        cookie.ExpireTimeSpan = Lifetime;
        cookie.SlidingExpiration = false;

        // An API answers 401 and 403; it does not redirect to a sign-in page.
        cookie.Events.OnRedirectToLogin = context =>
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Task.CompletedTask;
        };
        cookie.Events.OnRedirectToAccessDenied = context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        };
    }

    public static void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var session = endpoints.MapGroup(prefix + "/session").WithTags("Work");
        session.MapPost("", async (HttpContext http, IAuthorizationService authorization) =>
            {
                var name = http.User.Identity?.Name ?? "anonymous";
                var role = await WorkAuthorization.RoleOfAsync(authorization, http.User);
                var identity = new ClaimsIdentity(
                    [new Claim(ClaimTypes.Name, name), new Claim(WorkAuthorization.RoleClaim, WorkAuthorization.RoleName(role))],
                    SchemeName,
                    ClaimTypes.Name,
                    WorkAuthorization.RoleClaim);
                await http.SignInAsync(SchemeName, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
                return WorkApi.Ok(new WorkApi.Caller(name, WorkAuthorization.RoleName(role)));
            })
            .RequireAuthorization(WorkAuthorization.Read)
            .WithName("OpenSession").WithSummary("Opens a dashboard session (a cookie) for the caller of this request's API key or token.");
        session.MapDelete("", async (HttpContext http) =>
            {
                await http.SignOutAsync(SchemeName);
                return Results.NoContent();
            })
            .AllowAnonymous()
            .WithName("CloseSession").WithSummary("Closes the dashboard session.");
    }
}
