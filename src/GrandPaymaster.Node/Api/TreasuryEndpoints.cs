using System.Globalization;
using Akka.Hosting;
using GrandPaymaster.Actors.Treasury;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Treasury;
using GrandPaymaster.Node.Hosting;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The treasury as the Orchestrator sees it (<c>GET /admin/v1/treasury</c>, viewer): per chain its pool wallets with balance,
/// thresholds, spend rate and runway; the rebalance queue in serving order; the top-ups in flight; open escalations.
/// </summary>
public static class TreasuryEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static void MapTreasuryAdmin(this RouteGroupBuilder admin) =>
        admin.MapGet("/treasury", GetAsync).RequireRole(OperatorRole.Viewer);

    private static async Task<IResult> GetAsync(HttpContext http, IRequiredActor<OrchestratorSingleton> orchestrator, ChainRpcDirectory chains)
    {
        var (view, refused) = await EdgeAsk.AskAsync<TreasuryView>(await orchestrator.GetAsync(http.RequestAborted), GetTreasury.Instance, Timeout, http.RequestAborted);
        if (refused is not null) return refused;
        return Results.Json(new
        {
            at = view!.At,
            vaultConnected = view.VaultConnected,
            chains = chains.All.Select(chain =>
            {
                var id = new ChainId(chain.ChainId);
                return new
                {
                    chainId = chain.ChainId,
                    name = chain.Name,
                    runwaySeconds = view.RunwayOf(id),
                    wallets = view.Wallets.Where(w => w.ChainId == id).Select(w => new
                    {
                        address = w.Wallet.Value,
                        balanceWei = Text(w.Balance),
                        readAt = w.ReadAt,
                        need = w.Need is { } need ? OrchestratorState.Name(need) : null,
                        thresholds = new
                        {
                            minWei = Text(w.Thresholds.Min),
                            warningWei = Text(w.Thresholds.Warning),
                            targetWei = Text(w.Thresholds.Target),
                            ceilingWei = Text(w.Thresholds.Ceiling),
                            minTopUpWei = Text(w.Thresholds.MinTopUp),
                        },
                        spendWeiPerHour = Text(w.SpendPerHour),
                        runwaySeconds = w.RunwaySeconds,
                        surplusWei = Text(w.Surplus),
                    }),
                };
            }),
            queue = view.Queue.Select(Need),
            inFlight = view.InFlight.Select(Need),
            escalations = view.Escalations.Select(e => new
            {
                chainId = e.ChainId.Value, dedupKey = e.DedupKey, summary = e.Summary, since = e.Since, paged = e.TriggerPaged, recovered = e.Recovered,
            }),
        });
    }

    private static object Need(NeedView n) => new
    {
        needId = n.NeedId,
        priority = OrchestratorState.Name(n.Priority),
        chainId = n.ChainId.Value,
        wallet = n.Wallet.Value,
        amountWei = Text(n.Amount),
        attempts = n.Failures,
        nextAttemptAt = n.NextAttemptAt,
        lastError = n.LastError,
        queuedAt = n.QueuedAt,
        requestId = n.RequestId,
        startedAt = n.StartedAt,
        txHash = n.TxHash,
    };

    private static string? Text(Domain.Money.Wei? wei) => wei?.Value.ToString(CultureInfo.InvariantCulture);
}
