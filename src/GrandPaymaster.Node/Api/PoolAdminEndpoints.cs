using GrandPaymaster.Domain.Operators;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Operators' view and control of the chain pools (<c>/admin/v1/pools</c>): mode, endpoint health (by label, never
/// by URL) and receipt-lookup cost; pausing, resuming, disabling and enabling with a reason that is journaled.
/// </summary>
public static class PoolAdminEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SummaryTimeout = TimeSpan.FromSeconds(2);

    public static void MapPoolAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/pools", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/pools/{chainId}/mode", SetModeAsync).RequireRole(OperatorRole.Operator);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ChainRpcDirectory chains, PoolModeDirectory modes, IRequiredActor<ChainPoolRegion> pools)
    {
        var region = await pools.GetAsync(http.RequestAborted);
        var summaries = await Task.WhenAll(chains.All.Select(chain => SummaryAsync(region, new ChainId(chain.ChainId), http.RequestAborted)));
        return Results.Json(chains.All.Zip(summaries, (chain, summary) =>
        {
            var mode = modes.Get(new ChainId(chain.ChainId)) ?? PoolModeView.Initial(new ChainId(chain.ChainId));
            return new
            {
                chainId = chain.ChainId,
                name = chain.Name,
                mode = mode.Mode == PoolMode.SafeMode ? "safe_mode" : mode.Mode.ToString().ToLowerInvariant(),
                cause = mode.Cause.ToString().ToLowerInvariant(),
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
        }));
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

    private static async Task<IResult> SetModeAsync(HttpContext http, string chainId, ChainRpcDirectory chains, IRequiredActor<ChainPoolRegion> pools,
        PoolModeDirectory modes, TimeProvider clock)
    {
        if (!ChainId.TryParse(chainId, out var id) || chains.Find(id) is null)
            return Problems.Of(StatusCodes.Status404NotFound, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("mode", "reason");
        var modeText = body.String("mode", required: true, maxLength: 16);
        var reason = body.String("reason", required: true, maxLength: 256);
        PoolMode? mode = modeText switch
        {
            "normal" => PoolMode.Normal,
            "paused" => PoolMode.Paused,
            "disabled" => PoolMode.Disabled,
            _ => null,
        };
        if (modeText is not null && mode is null) body.Error("mode", "must be one of normal, paused, disabled");
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var meta = http.OperatorMeta(reason!, clock);
        try
        {
            var view = await (await pools.GetAsync(http.RequestAborted)).Ask<PoolModeView>(new PoolCommands.SetPoolMode(id, mode!.Value, meta), Timeout,
                http.RequestAborted);
            // This edge applies the answer at once; other nodes learn it through replication a moment later.
            modes.Set(view);
            return Results.Json(new { chainId = id.Value, mode = view.Mode.ToString().ToLowerInvariant(), cause = view.Cause.ToString().ToLowerInvariant(), reason = view.Reason, since = view.Since });
        }
        catch (AskTimeoutException)
        {
            return Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"The pool of chain {id} did not answer within {Timeout.TotalSeconds:0} s; the change may still apply.");
        }
    }
}
