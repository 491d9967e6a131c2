using GrandPaymaster.Domain.Operators;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Operators' view and control of the chain pools (<c>/admin/v1/pools</c>): mode, endpoint health (by label, never by URL) and
/// receipt-lookup cost; the manual circuit breaker (pause and resume at once, with a reason the pool journals). Disabling and
/// enabling a chain are timelocked changes (<c>chain.disable</c> / <c>chain.enable</c> on <c>/admin/v1/timelock</c>): their direct
/// routes answer 403 <c>timelock_required</c>, and the attempt is journaled.
/// </summary>
public static class PoolAdminEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(2);

    public static void MapPoolAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/pools", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapGet("/pools/{chainId}", GetAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/pools/{chainId}/pause", (HttpContext http, string chainId, ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools, PoolModeDirectory modes,
            IOperatorRegistry registry, TimeProvider clock) => BreakerAsync(http, chainId, pause: true, chains, pools, modes, registry, clock)).RequireRole(OperatorRole.Operator);
        admin.MapPost("/pools/{chainId}/resume", (HttpContext http, string chainId, ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools, PoolModeDirectory modes,
            IOperatorRegistry registry, TimeProvider clock) => BreakerAsync(http, chainId, pause: false, chains, pools, modes, registry, clock)).RequireRole(OperatorRole.Operator);
        admin.MapPost("/pools/{chainId}/disable", (HttpContext http, string chainId, ChainRpcDirectory chains, IOperatorRegistry registry, TimeProvider clock) =>
            TimelockRequiredAsync(http, chainId, "chain.disable", chains, registry, clock)).RequireRole(OperatorRole.Operator);
        admin.MapPost("/pools/{chainId}/enable", (HttpContext http, string chainId, ChainRpcDirectory chains, IOperatorRegistry registry, TimeProvider clock) =>
            TimelockRequiredAsync(http, chainId, "chain.enable", chains, registry, clock)).RequireRole(OperatorRole.Operator);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ChainRpcDirectory chains, PoolModeDirectory modes, IRequiredActor<ChainPoolRegion> pools)
    {
        var region = await pools.GetAsync(http.RequestAborted);
        var summaries = await Task.WhenAll(chains.All.Select(chain => SummaryAsync(region, new ChainId(chain.ChainId), http.RequestAborted)));
        return Results.Json(chains.All.Zip(summaries, (chain, summary) => PoolJson(chain, modes, summary)));
    }

    private static async Task<IResult> GetAsync(HttpContext http, string chainId, ChainRpcDirectory chains, PoolModeDirectory modes, IRequiredActor<ChainPoolRegion> pools)
    {
        if (!ChainId.TryParse(chainId, out var id) || chains.Find(id) is not { } chain) return UnknownChain(chainId);
        var summary = await SummaryAsync(await pools.GetAsync(http.RequestAborted), id, http.RequestAborted);
        return Results.Json(PoolJson(chain, modes, summary));
    }

    private static object PoolJson(ConfiguredChain chain, PoolModeDirectory modes, PoolReplies.PoolSummary? summary)
    {
        var mode = modes.Get(new ChainId(chain.ChainId)) ?? PoolModeView.Initial(new ChainId(chain.ChainId));
        return new
        {
            chainId = chain.ChainId,
            name = chain.Name,
            mode = PoolViews.ModeName(mode.Mode),
            cause = PoolViews.CauseName(mode.Cause),
            reason = mode.Reason,
            since = mode.Since,
            confirmationDepth = chain.ConfirmationDepth,
            receiptLookups = chain.PoolChain.ReceiptLookups,
            // null when the pool did not answer in time (it is recovering, or its node is unreachable)
            transactions = summary is null ? null : new
            {
                inFlight = summary.InFlight,
                oldestInFlightSince = summary.OldestInFlightSince,
                undeliveredSettlements = summary.UndeliveredSettlements,
                gapFills = summary.GapFills,
                workers = summary.Workers,
                syncedWorkers = summary.SyncedWorkers,
                blocksBehind = summary.BlocksBehind,
                queued = summary.Queued,
            },
            endpoints = chain.Endpoints.Health.Select(h => new
            {
                label = h.Label,
                state = h.State.ToString().ToLowerInvariant(),
                latencyMs = Math.Round(h.LatencyMs, 2),
                errorRate = Math.Round(h.ErrorRate, 3),
                lastFailureAt = h.LastFailureAt,
            }),
        };
    }

    private static async Task<PoolReplies.PoolSummary?> SummaryAsync(IActorRef region, ChainId chainId, CancellationToken ct)
    {
        try
        {
            return await region.Ask<PoolReplies.PoolSummary>(new PoolCommands.GetPoolSummary(chainId), SummaryTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>{reason}</c>: the manual circuit breaker, at once (no timelock). Pause: no new quotes (<c>pool_paused</c>) or relays; in-flight
    /// transactions still settle. Resume: back to the mode the pause interrupted (see <see cref="PoolState.Resume"/>).
    /// </summary>
    private static async Task<IResult> BreakerAsync(HttpContext http, string chainId, bool pause, ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools,
        PoolModeDirectory modes, IOperatorRegistry registry, TimeProvider clock)
    {
        if (!ChainId.TryParse(chainId, out var id) || chains.Find(id) is null) return UnknownChain(chainId);
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("reason");
        var reason = body.String("reason", required: true, maxLength: 256);
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var meta = http.OperatorMeta(reason!, clock);
        IPaymasterMessage command = pause ? new PoolCommands.PausePool(id, meta) : new PoolCommands.ResumePool(id, meta);
        object reply;
        try
        {
            reply = await (await pools.GetAsync(http.RequestAborted)).Ask<object>(command, Timeout, http.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            return Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"The pool of chain {id} did not answer within {Timeout.TotalSeconds:0} s; the change may still apply.");
        }

        switch (reply)
        {
            case PoolModeView view:
                // This edge applies the answer at once; other nodes learn it through replication a moment later.
                modes.Set(view);
                return Results.Json(PoolViews.ModeJson(view));
            case DappReplies.Rejected { Rejection.Code: CircuitBreakerCodes.TimelockRequired } refused:
                await registry.RecordActionAsync("timelock.bypass-refused", $"chain.enable {id}", meta with { Reason = $"resume of a disabled pool refused: {reason}" },
                    http.RequestAborted);
                return Problems.Of(StatusCodes.Status403Forbidden, CircuitBreakerCodes.TimelockRequired, refused.Rejection.Message);
            case DappReplies.Rejected refused:
                return Problems.Of(StatusCodes.Status409Conflict, refused.Rejection.Code, refused.Rejection.Message);
            default:
                return Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", $"Unexpected answer {reply.GetType().Name}.");
        }
    }

    /// <summary>The direct route of a timelocked change: refused, and the attempt journaled (who, what, when).</summary>
    private static async Task<IResult> TimelockRequiredAsync(HttpContext http, string chainId, string kind, ChainRpcDirectory chains, IOperatorRegistry registry,
        TimeProvider clock)
    {
        if (!ChainId.TryParse(chainId, out var id) || chains.Find(id) is null) return UnknownChain(chainId);
        var meta = http.OperatorMeta($"direct {kind} refused: it is a timelocked change", clock);
        await registry.RecordActionAsync("timelock.bypass-refused", $"{kind} {id}", meta, http.RequestAborted);
        return TimelockRequired(kind, $"chain {id}");
    }

    /// <summary>403 <c>timelock_required</c>, saying how to schedule the change instead.</summary>
    internal static IResult TimelockRequired(string kind, string subject) =>
        Problems.Of(StatusCodes.Status403Forbidden, Domain.Timelock.TimelockCodes.Required,
            $"Changing {subject} this way is a timelocked change: schedule '{kind}' with POST /admin/v1/timelock and execute it after its delay.");

    private static IResult UnknownChain(string chainId) =>
        Problems.Of(StatusCodes.Status404NotFound, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");
}

/// <summary>How the admin API names pool modes.</summary>
public static class PoolViews
{
    public static string ModeName(PoolMode mode) => mode == PoolMode.SafeMode ? "safe_mode" : mode.ToString().ToLowerInvariant();

    public static string CauseName(PauseCause cause) => cause.ToString().ToLowerInvariant();

    /// <summary><c>{chainId, mode, cause, reason, since}</c>: a pool's mode as the pause and resume routes answer it.</summary>
    public static object ModeJson(PoolModeView view) => new
    {
        chainId = view.ChainId.Value,
        mode = ModeName(view.Mode),
        cause = CauseName(view.Cause),
        reason = view.Reason,
        since = view.Since,
    };
}
