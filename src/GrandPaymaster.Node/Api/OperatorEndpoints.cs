using System.Collections.Immutable;
using System.Text.Json;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Operators (<c>/admin/v1/operators</c>): an admin creates them (the token is shown once, only its hash is kept), lists and
/// revokes them; the bootstrap token creates the first admin. Admin and approver roles are granted through the timelock.
/// </summary>
public static class OperatorEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    public const int DefaultExpiryDays = 90;
    public const int MaxExpiryDays = 365;
    private const int MaxScopeItems = 100;

    public static void MapOperatorAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/operators", CreateAsync).RequireRole(OperatorRole.Admin);
        admin.MapGet("/operators", ListAsync).RequireRole(OperatorRole.Admin);
        admin.MapGet("/operators/me", (HttpContext http) => Results.Json(new
        {
            id = http.Operator().Id,
            roles = http.Operator().Roles.Select(r => r.Name()),
            scope = ScopeJson(http.Operator().Scope),
        })).RequireRole(OperatorRole.Viewer);
        admin.MapDelete("/operators/{operatorId}", RevokeAsync).RequireRole(OperatorRole.Admin);
        admin.MapPost("/operators/{operatorId}/token", RotateTokenAsync).RequireRole(OperatorRole.Admin);
    }

    /// <summary><c>{id, roles, scope?: {chains?, dapps?}, expiresInDays? (1–365, default 90), reason}</c> → the operator and its token, once.</summary>
    private static async Task<IResult> CreateAsync(HttpContext http, IRequiredActor<OperatorRegistrySingleton> registry, TimeProvider clock)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("id", "roles", "scope", "expiresInDays", "reason");
        var id = body.String("id", required: true, maxLength: 64);
        var roles = Roles(body);
        var scope = Scope(body);
        var days = body.Integer("expiresInDays", required: false, 1, MaxExpiryDays) ?? DefaultExpiryDays;
        var reason = body.String("reason", required: true, maxLength: 256);
        if (id is not null && !OperatorRegistryState.IsValidId(id)) body.Error("id", "must be 1–64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit (not \"bootstrap\")");
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var token = RegistryOperators.IssueToken();
        var meta = http.OperatorMeta(reason!, clock);
        var command = new CreateOperator(id!, roles!.Value, scope!, RegistryOperators.HashToken(token), meta.At.AddDays(days), meta, http.Operator().IsBootstrap);
        var (answer, refused) = await AskAsync(http, registry, command);
        if (refused is not null) return refused;
        return Results.Json(new
        {
            id = answer!.Id,
            roles = answer.Roles.Select(r => r.Name()),
            scope = ScopeJson(answer.Scope),
            expiresAt = answer.ExpiresAt,
            token,
            note = "The token is shown once; store it now. Only its hash is kept.",
        }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IRequiredActor<OperatorRegistrySingleton> registry, TimeProvider clock)
    {
        var (list, refused) = await EdgeAsk.AskAsync<Operators>(await registry.GetAsync(http.RequestAborted), ListOperators.Instance, Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        var now = clock.GetUtcNow();
        return Results.Json(new { operators = list!.Items.Select(o => Json(o, now)) });
    }

    /// <summary><c>{expiresInDays? (1–365, default 90), reason}</c> → a new token for the operator, once; its old token is refused from then on.</summary>
    private static async Task<IResult> RotateTokenAsync(HttpContext http, string operatorId, IRequiredActor<OperatorRegistrySingleton> registry,
        IOperatorRegistry operators, TimeProvider clock)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("expiresInDays", "reason");
        var days = body.Integer("expiresInDays", required: false, 1, MaxExpiryDays) ?? DefaultExpiryDays;
        var reason = body.String("reason", required: true, maxLength: 256);
        if (!OperatorRegistryState.IsValidId(operatorId)) body.Error("operatorId", "not an operator id");
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        var token = RegistryOperators.IssueToken();
        var meta = http.OperatorMeta(reason!, clock);
        var (answer, refused) = await AskAsync(http, registry, new RotateToken(operatorId, RegistryOperators.HashToken(token), meta.At.AddDays(days), meta));
        if (refused is not null) return refused;
        operators.Forget();
        return Results.Json(new { id = answer!.Id, expiresAt = answer.ExpiresAt, token, note = "The token is shown once; store it now. The previous one no longer works." });
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string operatorId, IRequiredActor<OperatorRegistrySingleton> registry,
        IOperatorRegistry operators, TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        var reason = AdminEndpoints.QueryReason(http, errors);
        if (!OperatorRegistryState.IsValidId(operatorId)) errors["operatorId"] = ["not an operator id"];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var (answer, refused) = await AskAsync(http, registry, new RevokeOperator(operatorId, http.OperatorMeta(reason, clock)));
        if (refused is not null) return refused;
        operators.Forget();
        return Results.Json(Json(answer!, clock.GetUtcNow()));
    }

    /// <summary>Adds roles to an operator: what an executed <c>operator.grant</c> change does.</summary>
    internal static async Task<(OperatorRecord? Operator, IResult? Refused)> AskAsync(HttpContext http, IRequiredActor<OperatorRegistrySingleton> registry,
        IOperatorCommand command)
    {
        var (answer, refused) = await EdgeAsk.AskAsync<OperatorAnswer>(await registry.GetAsync(http.RequestAborted), command, Timeout, http.RequestAborted);
        if (refused is not null) return (null, refused);
        return answer!.Refused is { } rejection
            ? (null, Problems.Of(StatusOf(rejection.Code), rejection.Code, rejection.Message))
            : (answer.Operator, null);
    }

    private static int StatusOf(string code) => code switch
    {
        OperatorRegistryState.OperatorNotFound => StatusCodes.Status404NotFound,
        OperatorRegistryState.OperatorExists or OperatorRegistryState.LastAdmin or OperatorRegistryState.RegistryFull => StatusCodes.Status409Conflict,
        OperatorRegistryState.BootstrapClosed or OperatorRegistryState.TimelockRequired => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status400BadRequest,
    };

    internal static object Json(OperatorRecord o, DateTimeOffset now) => new
    {
        id = o.Id,
        roles = o.Roles.Select(r => r.Name()),
        scope = ScopeJson(o.Scope),
        createdAt = o.CreatedAt,
        createdBy = o.CreatedBy,
        expiresAt = o.ExpiresAt,
        revokedAt = o.RevokedAt,
        revokedBy = o.RevokedBy,
        status = o.StatusAt(now),
    };

    private static object? ScopeJson(OperatorScope scope) => scope.IsUnlimited ? null : new { chains = scope.Chains, dapps = scope.Dapps };

    /// <summary>The <c>roles</c> field: a non-empty array of role names.</summary>
    internal static ImmutableArray<OperatorRole>? Roles(JsonRequest body)
    {
        if (body.Element("roles") is not { ValueKind: JsonValueKind.Array } list || list.GetArrayLength() is 0 or > 4)
        {
            body.Error("roles", "must be an array of 1–4 roles: viewer, operator, approver, admin");
            return null;
        }

        var roles = ImmutableArray.CreateBuilder<OperatorRole>();
        foreach (var item in list.EnumerateArray())
            if (item.ValueKind == JsonValueKind.String && OperatorRoles.TryParse(item.GetString(), out var role)) roles.Add(role);
            else body.Error("roles", "must be an array of 1–4 roles: viewer, operator, approver, admin");
        return roles.Distinct().Order().ToImmutableArray();
    }

    /// <summary>The <c>scope</c> field: absent or null for everything, else <c>{chains?: [id], dapps?: [id]}</c> naming at least one (a kind left out: none of it).</summary>
    private static OperatorScope? Scope(JsonRequest body)
    {
        if (body.Element("scope") is not { } scope || scope.ValueKind == JsonValueKind.Null) return OperatorScope.Everything;
        if (scope.ValueKind != JsonValueKind.Object)
        {
            body.Error("scope", "must be an object {chains?, dapps?} or null");
            return null;
        }

        ImmutableSortedSet<long>? chains = null;
        ImmutableSortedSet<string>? dapps = null;
        foreach (var field in scope.EnumerateObject())
        {
            if (field.Value.ValueKind != JsonValueKind.Array || field.Value.GetArrayLength() is 0 or > MaxScopeItems)
            {
                body.Error($"scope.{field.Name}", $"must be an array of 1–{MaxScopeItems} items");
                continue;
            }

            switch (field.Name)
            {
                case "chains":
                    chains = field.Value.EnumerateArray().Select(e => JsonRequest.TryQuantity(e, out var c) && c > 0 && c <= long.MaxValue ? (long)c : -1)
                        .ToImmutableSortedSet();
                    if (chains.Contains(-1)) body.Error("scope.chains", "must hold positive chain ids");
                    break;
                case "dapps":
                    dapps = field.Value.EnumerateArray()
                        .Select(e => e.ValueKind == JsonValueKind.String && DappId.TryParse(e.GetString(), out var d) ? d.Value : "").ToImmutableSortedSet();
                    if (dapps.Contains("")) body.Error("scope.dapps", "must hold dApp ids");
                    break;
                default:
                    body.Error($"scope.{field.Name}", "is not a known field");
                    break;
            }
        }

        if (chains is null && dapps is null) body.Error("scope", "must name chains and/or dapps (null or no scope: everything)");
        return new OperatorScope(chains, dapps);
    }
}
