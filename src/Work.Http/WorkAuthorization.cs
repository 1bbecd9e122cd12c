using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace Work.Http;

/// <summary>The API's two policies: read (a reader or an operator) and operate (an operator).</summary>
public static class WorkAuthorization
{
    /// <summary>The policy of every endpoint that only reads.</summary>
    public const string Read = "work.read";

    /// <summary>The policy of every endpoint that changes something.</summary>
    public const string Operate = "work.operate";

    /// <summary>The claim that carries a caller's role, whatever scheme authenticated it.</summary>
    internal const string RoleClaim = "work.role";

    internal static string RoleName(WorkRole role) => role == WorkRole.Operator ? "operator" : "reader";

    /// <summary>What <paramref name="user"/> may do, by the same policies the endpoints use.</summary>
    internal static async Task<WorkRole> RoleOfAsync(IAuthorizationService authorization, ClaimsPrincipal user) =>
        (await authorization.AuthorizeAsync(user, Operate)).Succeeded ? WorkRole.Operator : WorkRole.Reader;

    internal static void AddPolicies(AuthorizationOptions authorization, WorkHttpOptions options)
    {
        authorization.AddPolicy(Read, policy => policy.RequireAssertion(context => Allows(context.User, options, WorkRole.Reader)));
        authorization.AddPolicy(Operate, policy => policy.RequireAssertion(context => Allows(context.User, options, WorkRole.Operator)));
    }

    private static bool Allows(ClaimsPrincipal user, WorkHttpOptions options, WorkRole needed)
    {
        if (options.AllowAnonymous)
        {
            return true;
        }

        var roleClaim = options.Jwt?.RoleClaim ?? "role";
        var roles = user.Identities.Where(i => i.IsAuthenticated)
            .SelectMany(i => i.Claims)
            .Where(c => c.Type == RoleClaim || c.Type == roleClaim)
            .Select(c => c.Value);
        return roles.Any(role => string.Equals(role, "operator", StringComparison.OrdinalIgnoreCase)
            || (needed == WorkRole.Reader && string.Equals(role, "reader", StringComparison.OrdinalIgnoreCase)));
    }
}
