using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Operators;

namespace GrandPaymaster.Node.Api;

/// <summary>The role an admin route needs (endpoint metadata; the authorisation matrix test reads it from every route).</summary>
public sealed record RequiredRole(OperatorRole Role);

/// <summary>
/// Who the operators are: what the admin API asks about a bearer token, and the journal of operators' acts that belong to no
/// entity of their own (refused requests, cluster membership commands).
/// </summary>
public interface IOperatorRegistry
{
    /// <summary>The operator whose token this is, or a refusal (<c>unauthorized</c>, <c>token_expired</c>, <c>token_revoked</c>).</summary>
    Task<OperatorAuthentication> AuthenticateAsync(string token, System.Net.IPAddress? from, CancellationToken ct);

    /// <summary>Journals that an authenticated (or revoked / expired) operator was refused, and why; false when over the journaling rate.</summary>
    Task<bool> RecordRefusalAsync(string operatorId, string method, string route, string code, string detail, string correlationId, CancellationToken ct);

    /// <summary>Journals an operator's act that changes no entity of ours (e.g. <c>cluster.leave</c> of a member address).</summary>
    Task RecordActionAsync(string action, string subject, GrandPaymaster.Domain.Common.Meta meta, CancellationToken ct);

    /// <summary>Forgets what this node remembers of tokens (after a revocation, a new token or a grant).</summary>
    void Forget()
    {
    }
}

/// <summary>The answer of <see cref="IOperatorRegistry.AuthenticateAsync"/>: an operator, or a refusal code and the operator it names (if any).</summary>
public sealed record OperatorAuthentication(OperatorIdentity? Operator, string? RefusalCode = null, string? RefusedOperatorId = null, string? Detail = null,
    int? RetryAfterSeconds = null);

/// <summary>
/// Authorisation of the admin API: each route declares its role with <see cref="RequireRole"/>; the filter authenticates the
/// bearer token, checks the role and the operator's scope (the route's <c>chainId</c> / <c>dappId</c>) and puts the operator
/// into the request for the handler (<see cref="Operator"/>). A refusal of a known operator is journaled.
/// </summary>
public static class AdminAuth
{
    private const string ItemKey = "gpm.operator";

    public static RouteHandlerBuilder RequireRole(this RouteHandlerBuilder route, OperatorRole role) =>
        route.WithMetadata(new RequiredRole(role)).AddEndpointFilter(async (context, next) =>
        {
            var refusal = await AuthorizeAsync(context.HttpContext, role);
            return refusal ?? await next(context);
        });

    /// <summary>The operator of this request (set by the filter of <see cref="RequireRole"/>).</summary>
    public static OperatorIdentity Operator(this HttpContext http) =>
        http.Items[ItemKey] as OperatorIdentity ?? throw new InvalidOperationException("This route does not declare its role (RequireRole).");

    /// <summary>Who, when and why of an operator's act: the event's <see cref="Meta"/>.</summary>
    public static Meta OperatorMeta(this HttpContext http, string reason, TimeProvider clock) =>
        new(clock.GetUtcNow(), http.Operator().Actor, reason, http.TraceIdentifier);

    private static async Task<IResult?> AuthorizeAsync(HttpContext http, OperatorRole required)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length > 512) return Unauthorized();
        var auth = http.RequestServices.GetRequiredService<IOperatorRegistry>();
        var result = await auth.AuthenticateAsync(header["Bearer ".Length..], http.Connection.RemoteIpAddress, http.RequestAborted);
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        if (result.Operator is not { } who)
        {
            if (result.RefusalCode is RegistryOperators.RegistryUnavailable or RejectionCodes.Overloaded or RejectionCodes.Throttled)
                return Problems.Of(result.RefusalCode == RejectionCodes.Throttled ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable,
                    result.RefusalCode, result.Detail!, retryAfterSeconds: result.RetryAfterSeconds);
            if (result.RefusalCode is null) return Unauthorized();
            var refusal = Problems.Of(StatusCodes.Status401Unauthorized, result.RefusalCode, result.Detail ?? "The token is not valid.");
            return result.RefusedOperatorId is not { } refused
                ? refusal
                : await RecordedAsync(auth, http, refused, route, result.RefusalCode, result.Detail ?? "", refusal);
        }

        string? code = null, detail = null;
        if (!who.Roles.Grants(required))
            (code, detail) = (RejectionCodes.Forbidden, $"This route needs the '{required.Name()}' role; the token has {string.Join(", ", who.Roles.Select(r => r.Name()))}.");
        else if (OutOfScope(http, who.Scope) is { } what)
            (code, detail) = ("out_of_scope", $"The operator's scope does not cover {what}.");
        else if (who.IsBootstrap && !IsBootstrapRoute(http))
            (code, detail) = (RejectionCodes.Forbidden, "The bootstrap token can only create the first admin (POST /admin/v1/operators).");
        if (code is not null) return await RecordedAsync(auth, http, who.Id, route, code, detail!, Problems.Of(StatusCodes.Status403Forbidden, code, detail!));

        http.Items[ItemKey] = who;
        return null;
    }

    /// <summary>The refusal, once it is in the journal; beyond the journaling rate, <c>throttled</c> instead.</summary>
    private static async Task<IResult> RecordedAsync(IOperatorRegistry auth, HttpContext http, string operatorId, string route, string code, string detail,
        IResult refusal) =>
        await auth.RecordRefusalAsync(operatorId, http.Request.Method, route, code, detail, http.TraceIdentifier, http.RequestAborted)
            ? refusal
            : Problems.Of(StatusCodes.Status429TooManyRequests, RejectionCodes.Throttled, "Too many refused requests from this operator; slow down.",
                retryAfterSeconds: 60);

    private static bool IsBootstrapRoute(HttpContext http) =>
        HttpMethods.IsPost(http.Request.Method) && (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText == "/admin/v1/operators";

    /// <summary>What the route touches that the scope does not cover; a change without a chain or dApp needs an unscoped operator.</summary>
    private static string? OutOfScope(HttpContext http, OperatorScope scope)
    {
        if (scope.IsUnlimited) return null;
        var values = http.Request.RouteValues;
        var chain = values.TryGetValue("chainId", out var c) ? c as string : null;
        var dapp = values.TryGetValue("dappId", out var d) ? d as string : null;
        if (chain is not null && !(long.TryParse(chain, out var chainId) && scope.CoversChain(chainId))) return $"chain {chain}";
        if (dapp is not null && !scope.CoversDapp(dapp)) return $"dApp {dapp}";
        if (chain is null && dapp is null && !HttpMethods.IsGet(http.Request.Method)) return "changes outside one chain or dApp";
        return null;
    }

    internal static IResult Unauthorized() =>
        Problems.Of(StatusCodes.Status401Unauthorized, RejectionCodes.Unauthorized, "Send an operator token as 'Authorization: Bearer <token>'.");
}
