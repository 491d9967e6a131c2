using GrandPaymaster.Domain.Operators;
using Akka.Hosting;
using GrandPaymaster.Node.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Node.Api;

/// <summary>The admin API (<c>/admin/v1</c>): every route declares its role (<see cref="AdminAuth"/>); the operator id is in every event.</summary>
public static class AdminEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxListed = 500;

    public static void MapAdminApi(this WebApplication app)
    {
        var admin = app.MapGroup("/admin/v1");
        admin.MapPost("/dapps", RegisterAsync).RequireRole(OperatorRole.Admin);
        admin.MapGet("/dapps", List).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/dapps/{dappId}/deposits", DepositAsync).RequireRole(OperatorRole.Admin);
        admin.MapGet("/dapps/{dappId}", GetAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/dapps/{dappId}/direct-calls", AllowDirectCallAsync).RequireRole(OperatorRole.Admin);
        admin.MapDelete("/dapps/{dappId}/direct-calls/{chainId}/{target}", RevokeDirectCallAsync).RequireRole(OperatorRole.Operator);
        admin.MapOperatorAdmin();
        admin.MapPolicyAdmin();
        admin.MapDenylistAdmin();
        admin.MapPoolAdmin();
        admin.MapMarketAdmin();
        admin.MapAuditAdmin();
        admin.MapAlertAdmin();
        admin.MapTimelockAdmin();
        admin.MapTreasuryAdmin();
        admin.MapVaultAdmin();
        admin.MapClusterAdmin();
    }

    private static async Task<IResult> RegisterAsync(HttpContext http, IRequiredActor<DappRegion> dapps, TimeProvider clock,
        DappDirectory directory)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("name", "surchargeBps", "reason");
        var name = body.String("name", required: true, maxLength: 100);
        var surcharge = body.Integer("surchargeBps", required: false, Bps.MinSurcharge.Value, Bps.MaxSurcharge.Value) ?? 3_000;
        var reason = body.String("reason", required: false, maxLength: 256) ?? "dApp onboarding";
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var dappId = DappId.New();
        var apiKey = ApiKeys.Issue(dappId);
        var meta = http.OperatorMeta(reason, clock);
        var (_, refused) = await EdgeAsk.AskAsync<Registered>(await dapps.GetAsync(http.RequestAborted),
            new Register(dappId, name!, DappState.HashApiKey(apiKey), new Bps(surcharge), meta), Timeout, http.RequestAborted);
        // The key works on this node from this answer on; other nodes read the registration from the journal.
        if (refused is null) directory.Upsert(new DirectoryEntry(dappId, DappState.HashApiKey(apiKey), false, null, Version: 1));
        return refused ?? Results.Json(new { dappId = dappId.Value, name, surchargeBps = surcharge, apiKey, note = "The API key is shown once; store it now." },
            statusCode: StatusCodes.Status201Created);
    }

    /// <summary>
    /// <c>?limit=1..500&amp;after=&lt;dappId&gt;</c>: registered dApps in id order, from this node's directory (status only; a dApp's
    /// profile is <c>GET /admin/v1/dapps/{dappId}</c>); a scoped operator sees its own dApps.
    /// </summary>
    private static IResult List(HttpContext http, DappDirectory directory)
    {
        var errors = new Dictionary<string, string[]>();
        var limitText = http.Request.Query["limit"].ToString();
        var limit = 100;
        if (limitText.Length > 0 && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) ||
                                     limit is < 1 or > MaxListed))
            errors["limit"] = [$"must be 1–{MaxListed}"];
        var after = http.Request.Query["after"].ToString();
        if (after.Length > 0 && !DappId.TryParse(after, out _)) errors["after"] = ["must be a dApp id"];
        if (errors.Count > 0) return Problems.Invalid(errors);
        var scope = http.Operator().Scope;
        var page = directory.Page(after.Length > 0 ? after : null, limit, e => scope.CoversDapp(e.DappId.Value));
        return Results.Json(new
        {
            dapps = page.Select(e => new { dappId = e.DappId.Value, status = e.Frozen ? "frozen" : "active", quotesPerSecond = e.QuotesPerSecond }),
            next = page.Count == limit ? page[^1].DappId.Value : null,
        });
    }

    private static async Task<IResult> DepositAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
        TimeProvider clock)
    {
        if (!DappId.TryParse(dappId, out var id)) return NotFound(dappId);
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("token", "amount", "reference", "reason");
        var token = body.Token("token");
        var amount = body.Quantity("amount", required: true);
        // The reference (a wire or ledger id) makes a retried deposit count once.
        var reference = body.String("reference", required: false, maxLength: 128) ?? "";
        var reason = body.String("reason", required: false, maxLength: 256) ?? "prepaid deposit";
        if (amount is { IsZero: true }) body.Error("amount", "must be positive");
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var meta = http.OperatorMeta(reason, clock);
        var (balances, refused) = await EdgeAsk.AskAsync<Balances>(await dapps.GetAsync(http.RequestAborted),
            new Deposit(id, new TokenAmount(token!.Value, amount!.Value), reference, meta), Timeout, http.RequestAborted);
        return refused ?? Results.Json(Views.Balances(id.Value, balances!.Ledgers));
    }

    private static async Task<IResult> GetAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps)
    {
        if (!DappId.TryParse(dappId, out var id)) return NotFound(dappId);
        var (view, refused) = await EdgeAsk.AskAsync<DappView>(await dapps.GetAsync(http.RequestAborted), new GetDapp(id), Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        return Results.Json(DappJson(view!));
    }

    /// <summary>
    /// Lets the dApp's calls to a target go straight from a pool wallet (the target sees the pool as the caller, and no user
    /// signature is checked): for contracts that do not take ERC-2771 calls. Journaled with the operator and the reason.
    /// </summary>
    private static async Task<IResult> AllowDirectCallAsync(HttpContext http, string dappId, IRequiredActor<DappRegion> dapps,
        ChainRpcDirectory chains, TimeProvider clock)
    {
        if (!DappId.TryParse(dappId, out var id)) return NotFound(dappId);
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("chainId", "target", "reason");
        var chainId = body.ChainId("chainId");
        var target = body.Address("target");
        var reason = body.String("reason", required: true, maxLength: 256);
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        if (chains.Find(chainId!.Value) is null) return Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");
        return await SetDirectCallAsync(http, dapps, new SetDirectCall(id, new DirectCallTarget(chainId.Value, target!.Value), true,
            http.OperatorMeta(reason!, clock)));
    }

    private static async Task<IResult> RevokeDirectCallAsync(HttpContext http, string dappId, string chainId, string target, IRequiredActor<DappRegion> dapps, TimeProvider clock)
    {
        if (!DappId.TryParse(dappId, out var id)) return NotFound(dappId);
        var errors = new Dictionary<string, string[]>();
        var reason = QueryReason(http, errors);
        if (!long.TryParse(chainId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var chain) || chain <= 0)
            errors["chainId"] = ["must be a positive chain id"];
        if (!AddressInput.TryParse(target, out var address, out var targetError)) errors["target"] = [targetError];
        if (errors.Count > 0) return Problems.Invalid(errors);
        return await SetDirectCallAsync(http, dapps, new SetDirectCall(id, new DirectCallTarget(new ChainId(chain), address), false,
            http.OperatorMeta(reason, clock)));
    }

    private static async Task<IResult> SetDirectCallAsync(HttpContext http, IRequiredActor<DappRegion> dapps, SetDirectCall command)
    {
        var (view, refused) = await EdgeAsk.AskAsync<DappView>(await dapps.GetAsync(http.RequestAborted), command, Timeout, http.RequestAborted);
        return refused ?? Results.Json(DappJson(view!));
    }

    internal static object DappJson(DappView view) => new
    {
        dappId = view.DappId.Value,
        view.Name,
        surchargeBps = view.Surcharge.Value,
        view.RegisteredAt,
        status = view.Frozen is not null ? "frozen" : view.ThrottledUntil is not null ? "throttled" : "active",
        frozen = view.Frozen is { } f ? new { rule = f.Rule, evidence = f.Evidence, since = f.At } : null,
        throttledUntil = view.ThrottledUntil,
        view.OpenHolds,
        balances = Views.Balances(view.DappId.Value, view.Ledgers),
        directCalls = (view.DirectCalls ?? []).Select(t => new { chainId = t.ChainId.Value, target = t.Target.Value }),
    };

    /// <summary>The <c>reason</c> query parameter of an operator's DELETE (1–256 characters, no control characters); a problem goes into <paramref name="errors"/>.</summary>
    internal static string QueryReason(HttpContext http, Dictionary<string, string[]> errors)
    {
        var reason = http.Request.Query["reason"].ToString();
        if (reason.Trim().Length == 0 || reason.Length > 256 || reason.Any(char.IsControl))
            errors["reason"] = ["query parameter is required: 1–256 characters, no control characters"];
        return reason;
    }

    internal static IResult NotFound(string dappId) =>
        Problems.Of(StatusCodes.Status404NotFound, RejectionCodes.DappNotFound, $"dApp {dappId} does not exist.");
}
