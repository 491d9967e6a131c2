using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm pool list|show|pause|resume</c>: the chain pools' mode and health; the manual circuit breaker.</summary>
public static class PoolPalette
{
    public static Command Build(CommandKit kit)
    {
        var showChain = ChainArgument();
        var pauseChain = ChainArgument();
        var resumeChain = ChainArgument();
        var pauseReason = CommandKit.ReasonOption();
        var resumeReason = CommandKit.ReasonOption();

        return CommandKit.Group("pool", "Chain pools: mode, in-flight transactions, RPC endpoints; pause and resume (circuit breaker)",
            kit.Leaf("list", "List every chain's pool: mode (normal, paused, disabled, safe_mode), cause, reason, in-flight transactions, endpoints",
                ["gpm pool list", "gpm pool list --json | jq '.[] | {chainId, mode}'"], [],
                async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/pools", ct), pools => RenderList(s.Output, pools))),
            kit.Leaf("show", "Show one chain's pool: mode and why, transactions and workers, each RPC endpoint's health",
                ["gpm pool show 31337"], [showChain],
                async (s, ct) => s.Show(await OneAsync(s, s.Get(showChain), ct), pool => RenderOne(s.Output, pool))),
            kit.Leaf("pause", "Pause a chain's pool at once (no timelock): it refuses new quotes with pool_paused and keeps watching its in-flight transactions",
                ["gpm pool pause 31337 --reason \"RPC provider incident INC-42\""], [pauseChain, pauseReason],
                (s, ct) => ChangeAsync(s, s.Get(pauseChain), "pause", s.Reason(pauseReason, $"pausing pool {s.Get(pauseChain)}"), ct)),
            kit.Leaf("resume", "Resume a paused chain's pool: it quotes again",
                ["gpm pool resume 31337 --reason \"INC-42 resolved\""], [resumeChain, resumeReason],
                (s, ct) => ChangeAsync(s, s.Get(resumeChain), "resume", s.Reason(resumeReason, $"resuming pool {s.Get(resumeChain)}"), ct)));
    }

    private static Argument<long> ChainArgument() => new("chainId") { Description = "The chain id of the pool (e.g. 31337)" };

    private static async Task<int> ChangeAsync(Session s, long chainId, string action, string reason, CancellationToken ct)
    {
        var answer = await s.Node.PostAsync($"/admin/v1/pools/{chainId}/{action}", new { reason }, ct);
        return s.Show(answer, pool =>
        {
            s.Output.Done($"Pool {chainId} is {pool.Text("mode")} ({action} by you: {reason}).");
            s.Output.Fields(null, [("cause", pool.Text("cause")), ("since", pool.Text("since"))]);
        });
    }

    /// <summary><c>GET /admin/v1/pools/{chainId}</c>; a node without that route answers from the list.</summary>
    private static async Task<NodeAnswer> OneAsync(Session s, long chainId, CancellationToken ct)
    {
        try
        {
            return await s.Node.GetAsync($"/admin/v1/pools/{chainId}", ct);
        }
        catch (GpmException e) when (e.RouteMissing)
        {
            var all = await s.Node.GetAsync("/admin/v1/pools", ct);
            var pool = all.Json.Items("pools").FirstOrDefault(p => p.Text("chainId") == chainId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (pool.ValueKind != JsonValueKind.Object)
                throw new GpmException(ExitCodes.Refused, "unknown_chain", $"Chain {chainId} is not served by this paymaster.", 404);
            return new NodeAnswer(all.Status, pool.GetRawText(), pool);
        }
    }

    private static void RenderList(Output output, JsonElement pools) =>
        output.Table(null, ["chain", "name", "mode", "cause", "since", "reason", "in flight", "queued", "endpoints up"],
            pools.Items("pools").Select(p => new[]
            {
                p.Text("chainId"), p.Text("name"), p.Text("mode"), p.Text("cause"), p.Text("since"), p.Text("reason"),
                p.Text("transactions.inFlight"), p.Text("transactions.queued"), Endpoints(p),
            }));

    private static void RenderOne(Output output, JsonElement pool)
    {
        output.Fields($"Pool {pool.Text("chainId")} ({pool.Text("name")})",
        [
            ("mode", pool.Text("mode")), ("cause", pool.Text("cause")), ("reason", pool.Text("reason")), ("since", pool.Text("since")),
            ("confirmation depth", pool.Text("confirmationDepth")),
            ("in flight", pool.Text("transactions.inFlight")), ("oldest in flight", pool.Text("transactions.oldestInFlightSince")),
            ("queued", pool.Text("transactions.queued")), ("undelivered settlements", pool.Text("transactions.undeliveredSettlements")),
            ("workers (synced)", $"{pool.Text("transactions.workers") ?? "-"} ({pool.Text("transactions.syncedWorkers") ?? "-"})"),
            ("blocks behind", pool.Text("transactions.blocksBehind")), ("gap fills", pool.Text("transactions.gapFills")),
        ]);
        output.Line("");
        output.Table("RPC endpoints", ["label", "state", "latency ms", "error rate", "last failure"],
            pool.Items("endpoints").Select(e => new[] { e.Text("label"), e.Text("state"), e.Text("latencyMs"), e.Text("errorRate"), e.Text("lastFailureAt") }));
    }

    private static string Endpoints(JsonElement pool)
    {
        var endpoints = pool.Items("endpoints").ToArray();
        return $"{endpoints.Count(e => e.Text("state") == "healthy")}/{endpoints.Length}";
    }
}
