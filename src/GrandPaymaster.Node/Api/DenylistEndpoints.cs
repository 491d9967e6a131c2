using GrandPaymaster.Domain.Operators;
using Akka.Hosting;
using GrandPaymaster.Actors.Compliance;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using static GrandPaymaster.Domain.Compliance.DenylistProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The operator's denylist routes (S9): list, add (wallet, dApp or target contract, with reason and optional expiry) and
/// remove. Every change is an event of the denylist entity with the operator and the reason.
/// </summary>
public static class DenylistEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static void MapDenylistAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/denylist", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/denylist", AddAsync).RequireRole(OperatorRole.Operator);
        admin.MapDelete("/denylist/{kind}/{value}", RemoveAsync).RequireRole(OperatorRole.Admin);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IRequiredActor<DenylistSingleton> denylist)
    {
        var (entries, refused) = await EdgeAsk.AskAsync<Entries>(await denylist.GetAsync(http.RequestAborted), GetEntries.Instance, Timeout, http.RequestAborted);
        return refused ?? Results.Json(new { entries = entries!.Items.Select(Json) });
    }

    /// <summary><c>{kind: wallet|dapp|target, value, reason, expiresAt?, dapp?}</c>; <c>dapp</c> scopes a wallet or target entry to one dApp.</summary>
    private static async Task<IResult> AddAsync(HttpContext http, IRequiredActor<DenylistSingleton> denylist,
        TimeProvider clock)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("kind", "value", "reason", "expiresAt", "dapp");
        var kindText = body.String("kind", required: true, maxLength: 16);
        var valueText = body.String("value", required: true, maxLength: 64);
        var reason = body.String("reason", required: true, maxLength: 256);
        var expiresText = body.String("expiresAt", required: false, maxLength: 40);
        var scope = Scope(body.String("dapp", required: false, maxLength: 64), out var scopeProblem);
        if (scopeProblem is not null) body.Error("dapp", scopeProblem);
        var now = clock.GetUtcNow();
        DateTimeOffset? expiresAt = null;
        if (expiresText is not null)
        {
            if (DateTimeOffset.TryParse(expiresText, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) && at > now)
                expiresAt = at;
            else body.Error("expiresAt", "must be an ISO-8601 time in the future");
        }

        var (kind, value) = Parse(body, kindText, valueText);
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        var meta = new Meta(now, http.Operator().Actor, reason!, http.TraceIdentifier);
        var (entry, refused) = await EdgeAsk.AskAsync<DenylistEntry>(await denylist.GetAsync(http.RequestAborted), new AddEntry(kind, value!, expiresAt, meta, scope),
            Timeout, http.RequestAborted);
        return refused ?? Results.Json(Json(entry!), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RemoveAsync(HttpContext http, string kind, string value, IRequiredActor<DenylistSingleton> denylist, TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        var reason = AdminEndpoints.QueryReason(http, errors);
        var (parsedKind, parsedValue, problem) = ParsePath(kind, value);
        if (problem is not null) errors["value"] = [problem];
        var query = http.Request.Query["dapp"].ToString();
        var scope = Scope(query.Length == 0 ? null : query, out var scopeProblem);
        if (scopeProblem is not null) errors["dapp"] = [scopeProblem];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var meta = http.OperatorMeta(reason, clock);
        var (entry, refused) = await EdgeAsk.AskAsync<DenylistEntry>(await denylist.GetAsync(http.RequestAborted), new RemoveEntry(parsedKind, parsedValue!, meta, scope),
            Timeout, http.RequestAborted);
        return refused ?? Results.Json(Json(entry!));
    }

    private static string? Scope(string? dapp, out string? problem)
    {
        problem = null;
        if (dapp is null) return null;
        if (DappId.TryParse(dapp, out var id)) return id.Value;
        problem = "must be a dApp id";
        return null;
    }

    private static (DenylistKind Kind, string? Value) Parse(JsonRequest body, string? kind, string? value)
    {
        if (kind is null || value is null) return (default, null);
        var (parsedKind, parsedValue, problem) = ParsePath(kind, value);
        if (problem is not null) body.Error(problem.StartsWith("kind", StringComparison.Ordinal) ? "kind" : "value", problem);
        return (parsedKind, parsedValue);
    }

    /// <summary>A wallet or target is an address (stored lower case); a dApp is its id.</summary>
    private static (DenylistKind Kind, string? Value, string? Problem) ParsePath(string kind, string value)
    {
        if (!Enum.TryParse<DenylistKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(kind, out _))
            return (default, null, "kind must be wallet, dapp or target");
        if (parsed == DenylistKind.Dapp)
            return DappId.TryParse(value, out var dapp) ? (parsed, dapp.Value, null) : (parsed, null, "value must be a dApp id");
        return Address.TryParse(value, out var address) ? (parsed, address.Value, null) : (parsed, null, "value must be a 0x-prefixed 20-byte hex address");
    }

    private static object Json(DenylistEntry entry) => new
    {
        kind = entry.Kind.ToString().ToLowerInvariant(),
        value = entry.Value,
        reason = entry.Reason,
        addedBy = entry.AddedBy,
        addedAt = entry.AddedAt,
        expiresAt = entry.ExpiresAt,
        dapp = entry.Dapp,
    };
}
