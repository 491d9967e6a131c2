using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm treasury show</c>: runway per chain, each pool wallet against its thresholds, the rebalance queue and the top-ups in flight.</summary>
public static class TreasuryPalette
{
    public static Command Build(CommandKit kit) =>
        CommandKit.Group("treasury", "Pool wallets and their top-ups from the vault: runway, thresholds, the rebalance queue",
            kit.Leaf("show", "Show each chain's runway, its pool wallets (balance, thresholds, spend rate), the rebalance queue and the top-ups in flight",
                ["gpm treasury show", "gpm treasury show --json | jq '.chains[] | {chainId, runwaySeconds}'", "gpm treasury show --json | jq '.queue'"], [],
                async (s, ct) => s.Show(await s.Node.GetAsync("/admin/v1/treasury", ct), treasury => Render(s.Output, treasury))));

    private static void Render(Output output, JsonElement treasury)
    {
        var chains = treasury.Items("chains").ToArray();
        output.Table("Runway", ["chain", "name", "runway", "wallets"],
            chains.Select(c => new[] { c.Text("chainId"), c.Text("name"), Duration(c.Text("runwaySeconds")), c.Items("wallets").Count().ToString(CultureInfo.InvariantCulture) }));
        output.Line("");
        output.Table("Pool wallets (ether)", ["chain", "wallet", "balance", "need", "min", "warning", "target", "spend / h", "runway"],
            chains.SelectMany(c => c.Items("wallets").Select(w => new[]
            {
                c.Text("chainId"), w.Text("address"), Ether(w.Text("balanceWei")), w.Text("need") ?? "-", Ether(w.Text("thresholds.minWei")),
                Ether(w.Text("thresholds.warningWei")), Ether(w.Text("thresholds.targetWei")), Ether(w.Text("spendWeiPerHour")), Duration(w.Text("runwaySeconds")),
            })));
        output.Line("");
        output.Table("Rebalance queue (serving order)", ["priority", "chain", "wallet", "amount", "attempts", "next attempt at", "last error"],
            treasury.Items("queue").Select(n => new[]
            {
                n.Text("priority"), n.Text("chainId"), n.Text("wallet"), Ether(n.Text("amountWei")), n.Text("attempts"), n.Text("nextAttemptAt"), n.Text("lastError"),
            }));
        output.Line("");
        output.Table("In flight", ["priority", "chain", "wallet", "amount", "request", "started at", "tx"],
            treasury.Items("inFlight").Select(n => new[]
            {
                n.Text("priority"), n.Text("chainId"), n.Text("wallet"), Ether(n.Text("amountWei")), n.Text("requestId"), n.Text("startedAt"), n.Text("txHash"),
            }));
        if (treasury.ValueKind == JsonValueKind.Object && treasury.Text("vaultConnected") == "false")
            output.Line("The vault is not reachable from the orchestrator: needs are queued, none is requested.", "yellow");
    }

    /// <summary>Wei as ether with up to four decimals (the node's exact wei stays in --json).</summary>
    private static string? Ether(string? wei) =>
        decimal.TryParse(wei, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? (value / 1_000_000_000_000_000_000m).ToString("0.####", CultureInfo.InvariantCulture)
            : wei;

    private static string Duration(string? seconds) =>
        double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
            ? TimeSpan.FromSeconds(s) switch
            {
                { TotalDays: >= 1 } t => $"{t.TotalDays:0.#} d",
                { TotalHours: >= 1 } t => $"{t.TotalHours:0.#} h",
                { TotalMinutes: >= 1 } t => $"{t.TotalMinutes:0.#} min",
                var t => $"{t.TotalSeconds:0} s",
            }
            : "-";
}
