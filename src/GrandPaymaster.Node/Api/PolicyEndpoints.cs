using GrandPaymaster.Domain.Operators;
using System.Collections.Immutable;
using System.Numerics;
using System.Text.Json;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Node.Policy;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// A dApp's policy: the operator's routes (ceilings, chains, targets, surcharge, quote rate; freeze, unfreeze, key rotation)
/// and the dApp's own <c>GET/PUT /v1/policy</c> (its limits, within the operator's ceilings). Every change is an event in the
/// dApp's journal with who and why.
/// </summary>
public static class PolicyEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxListed = 100;

    public static void MapDappPolicy(this RouteGroupBuilder v1)
    {
        v1.MapGet("/policy", GetOwnAsync);
        v1.MapPut("/policy", PutOwnAsync);
    }

    public static void MapPolicyAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/dapps/{dappId}/policy", GetAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPut("/dapps/{dappId}/policy", PutAsync).RequireRole(OperatorRole.Operator);
        admin.MapPost("/dapps/{dappId}/freeze", (HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
            TimeProvider clock, DappDirectory directory) => FreezeAsync(http, dappId, freeze: true, dapps, clock, directory)).RequireRole(OperatorRole.Operator);
        admin.MapPost("/dapps/{dappId}/unfreeze", (HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
            TimeProvider clock, DappDirectory directory) => FreezeAsync(http, dappId, freeze: false, dapps, clock, directory)).RequireRole(OperatorRole.Operator);
        admin.MapPost("/dapps/{dappId}/api-key", RotateKeyAsync).RequireRole(OperatorRole.Admin);
    }

    private static async Task<IResult> GetOwnAsync(HttpContext http, DappGate gate, IRequiredActor<DappRegion> dapps)
    {
        var (caller, denied) = gate.Admit(http);
        if (denied is not null) return denied;
        return await AskPolicyAsync(http, dapps, new GetPolicy(caller!.Id, caller.KeyHash));
    }

    /// <summary><c>{limits: {USDT: {daily, perUserDaily, perTransaction}}, reason?}</c>: the dApp's own limits, each at or under the operator's.</summary>
    private static async Task<IResult> PutOwnAsync(HttpContext http, DappGate gate, IRequiredActor<DappRegion> dapps, TimeProvider clock)
    {
        var (caller, denied) = gate.Admit(http);
        if (denied is not null) return denied;
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("limits", "reason");
        var limits = Limits(body);
        var reason = body.String("reason", required: false, maxLength: 256) ?? "dApp set its own limits";
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        var meta = new Meta(clock.GetUtcNow(), $"dapp:{caller!.Id}", reason, http.TraceIdentifier);
        return await AskPolicyAsync(http, dapps, new SetOwnLimits(caller.Id, caller.KeyHash, limits!, meta));
    }

    private static async Task<IResult> GetAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps)
    {
        if (!DappId.TryParse(dappId, out var id)) return AdminEndpoints.NotFound(dappId);
        return await AskPolicyAsync(http, dapps, new GetPolicy(id, null));
    }

    /// <summary>
    /// <c>{limits?, allowedChains? (null: all), allowedTargets? (null: any), surchargeBps?, quotesPerSecond?, reason}</c>: replaces the
    /// operator's policy; a field left out keeps no limit (limits, lists) or the current value (surcharge, rate). The surcharge is a
    /// timelocked change (<c>dapp.surcharge</c>): a <c>surchargeBps</c> other than the current one is refused whole with 403
    /// <c>timelock_required</c> (journaled); the same value, or none, lets the rest of the policy apply at once.
    /// </summary>
    private static async Task<IResult> PutAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
        TimeProvider clock, DappDirectory directory, IOperatorRegistry registry)
    {
        if (!DappId.TryParse(dappId, out var id)) return AdminEndpoints.NotFound(dappId);
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("limits", "allowedChains", "allowedTargets", "surchargeBps", "quotesPerSecond", "reason");
        var limits = Limits(body);
        var chains = List(body, "allowedChains", e => JsonRequest.TryQuantity(e, out var c) && c > 0 && c <= long.MaxValue ? (long)c : (long?)null,
            "a positive chain id");
        var targets = List(body, "allowedTargets", e => e.ValueKind == JsonValueKind.String && Address.TryParse(e.GetString(), out var a) ? a : (Address?)null,
            "a 0x-prefixed 20-byte hex address");
        var surcharge = body.Integer("surchargeBps", required: false, Bps.MinSurcharge.Value, Bps.MaxSurcharge.Value);
        var rate = body.Integer("quotesPerSecond", required: false, 1, DappPolicy.MaxQuotesPerSecond);
        var reason = body.String("reason", required: true, maxLength: 256);
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var region = await dapps.GetAsync(http.RequestAborted);
        var (current, missing) = await EdgeAsk.AskAsync<PolicyView>(region, new GetPolicy(id, null), Timeout, http.RequestAborted);
        if (missing is not null) return missing;
        if (surcharge is { } wanted && wanted != current!.Surcharge.Value)
        {
            await registry.RecordActionAsync("timelock.bypass-refused", $"dapp.surcharge {id}",
                http.OperatorMeta($"direct surcharge change {current.Surcharge.Value} → {wanted} bps refused: {reason}", clock), http.RequestAborted);
            return PoolAdminEndpoints.TimelockRequired("dapp.surcharge", $"the surcharge of dApp {id}");
        }

        var policy = new DappPolicy(limits!, chains?.ToImmutableSortedSet(), targets?.ToImmutableHashSet(), rate ?? current!.Policy.QuotesPerSecond);
        var meta = http.OperatorMeta(reason!, clock);
        // No surcharge in the command: the dApp keeps the one it has when the command arrives, so a dapp.surcharge executed
        // since the read above is not reverted (the surcharge changes only through the timelock).
        var (set, refused) = await EdgeAsk.AskAsync<PolicyView>(region, new SetPolicy(id, policy, Surcharge: null, meta), Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        directory.Update(id, e => e with { QuotesPerSecond = policy.QuotesPerSecond is > 0 and var r ? r : null });
        return Results.Json(Json(set!));
    }

    /// <summary><c>{reason}</c>: an operator freezes (or unfreezes) the dApp at once; only an operator can unfreeze.</summary>
    private static async Task<IResult> FreezeAsync(HttpContext http, string dappId, bool freeze, IRequiredActor<DappRegion> dapps, TimeProvider clock, DappDirectory directory)
    {
        var (id, meta, problem) = await OperatorReasonAsync(http, dappId, clock);
        if (problem is not null) return problem;
        IDappCommand command = freeze ? new FreezeDapp(id, "operator", meta!.Reason, meta) : new UnfreezeDapp(id, meta!);
        var (view, refused) = await EdgeAsk.AskAsync<DappView>(await dapps.GetAsync(http.RequestAborted), command, Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        directory.Update(id, e => e with { Frozen = view!.Frozen is not null });
        return Results.Json(AdminEndpoints.DappJson(view!));
    }

    /// <summary><c>{reason}</c>: a new API key, shown once; the old one is refused from this answer on (on this node at once, elsewhere within a second).</summary>
    private static async Task<IResult> RotateKeyAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
        TimeProvider clock, DappDirectory directory)
    {
        var (id, meta, problem) = await OperatorReasonAsync(http, dappId, clock);
        if (problem is not null) return problem;
        var apiKey = ApiKeys.Issue(id);
        var hash = DappState.HashApiKey(apiKey);
        var (_, refused) = await EdgeAsk.AskAsync<DappView>(await dapps.GetAsync(http.RequestAborted), new RotateApiKey(id, hash, meta!), Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        directory.Update(id, e => e with { ApiKeyHash = hash });
        return Results.Json(new { dappId = id.Value, apiKey, note = "The API key is shown once; store it now. The previous key no longer works." });
    }

    /// <summary>An operator's act on one dApp whose body is only <c>{reason}</c>: the dApp's id and the event's who and why, or a problem.</summary>
    private static async Task<(DappId Id, Meta? Meta, IResult? Problem)> OperatorReasonAsync(HttpContext http, string dappId, TimeProvider clock)
    {
        if (!DappId.TryParse(dappId, out var id)) return (default, null, AdminEndpoints.NotFound(dappId));
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return (id, null, problem);
        body!.Allow("reason");
        var reason = body.String("reason", required: true, maxLength: 256);
        return body.IsValid
            ? (id, http.OperatorMeta(reason!, clock), null)
            : (id, null, Problems.Invalid(body.Errors));
    }

    private static async Task<IResult> AskPolicyAsync(HttpContext http, IRequiredActor<DappRegion> dapps, IDappCommand command)
    {
        var (view, refused) = await EdgeAsk.AskAsync<PolicyView>(await dapps.GetAsync(http.RequestAborted), command, Timeout, http.RequestAborted);
        return refused ?? Results.Json(Json(view!));
    }

    /// <summary>The <c>limits</c> field: per token symbol, each limit a non-negative quantity (string) or absent/null for none.</summary>
    private static ImmutableDictionary<FeeToken, TokenLimits>? Limits(JsonRequest body)
    {
        var result = ImmutableDictionary<FeeToken, TokenLimits>.Empty;
        if (body.Element("limits") is not { } limits) return result;
        if (limits.ValueKind != JsonValueKind.Object)
        {
            body.Error("limits", "must be an object keyed by token (USDT, VCN)");
            return null;
        }

        foreach (var token in limits.EnumerateObject())
        {
            if (!FeeTokens.TryParse(token.Name, out var feeToken) || token.Value.ValueKind != JsonValueKind.Object)
            {
                body.Error($"limits.{token.Name}", "must be a token (USDT or VCN) with an object {daily, perUserDaily, perTransaction}");
                continue;
            }

            BigInteger? Read(string name)
            {
                if (!token.Value.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
                if (JsonRequest.TryQuantity(value, out var parsed)) return parsed;
                body.Error($"limits.{token.Name}.{name}", "must be a non-negative integer in base units (decimal string)");
                return null;
            }

            foreach (var field in token.Value.EnumerateObject())
                if (field.Name is not ("daily" or "perUserDaily" or "perTransaction"))
                    body.Error($"limits.{token.Name}.{field.Name}", "is not a known field");
            result = result.SetItem(feeToken, new TokenLimits(Read("daily"), Read("perUserDaily"), Read("perTransaction")));
        }

        return result;
    }

    private static List<T>? List<T>(JsonRequest body, string name, Func<JsonElement, T?> parse, string what) where T : struct
    {
        if (body.Element(name) is not { } list) return null;
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > MaxListed)
        {
            body.Error(name, $"must be an array of at most {MaxListed} items, or null for no restriction");
            return null;
        }

        var items = new List<T>();
        foreach (var item in list.EnumerateArray())
        {
            if (parse(item) is { } parsed) items.Add(parsed);
            else body.Error(name, $"every item must be {what}");
        }

        return items;
    }

    private static object Json(PolicyView view) => new
    {
        dappId = view.DappId.Value,
        surchargeBps = view.Surcharge.Value,
        quotesPerSecond = view.Policy.QuotesPerSecond is > 0 and var rate ? rate : (int?)null,
        allowedChains = view.Policy.AllowedChains?.ToArray(),
        allowedTargets = view.Policy.AllowedTargets?.Select(a => a.Value).Order(StringComparer.Ordinal).ToArray(),
        operatorLimits = LimitsJson(view.Policy.Limits),
        ownLimits = LimitsJson(view.Own),
        effectiveLimits = LimitsJson(view.Effective),
        day = view.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        spentToday = view.SpentToday.ToDictionary(s => s.Key.Symbol(), s => s.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    };

    private static Dictionary<string, object> LimitsJson(ImmutableDictionary<FeeToken, TokenLimits> limits) =>
        limits.ToDictionary(l => l.Key.Symbol(), l => (object)new
        {
            daily = l.Value.Daily?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            perUserDaily = l.Value.PerUserDaily?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            perTransaction = l.Value.PerTransaction?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
}
