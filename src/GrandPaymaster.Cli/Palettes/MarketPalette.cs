using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace GrandPaymaster.Cli.Palettes;

/// <summary><c>gpm market show [chainId]</c>: what the gas and rate oracles make of their sources, per chain.</summary>
public static class MarketPalette
{
    public static Command Build(CommandKit kit)
    {
        var chain = new Argument<long?>("chainId")
        {
            Description = "Only this chain (with each gas source's verdict and the rates); all chains when left out",
            Arity = ArgumentArity.ZeroOrOne,
        };
        return CommandKit.Group("market", "Gas market and token rates per chain: median, state, volatility, buffer, sources",
            kit.Leaf("show", "Show the gas market (median, state, volatility, buffer, pool mode) and token rates; with a chain id, each gas source too",
                ["gpm market show", "gpm market show 31337", "gpm market show --json | jq '.[] | {chainId, state, medianWeiPerGas}'"], [chain],
                async (s, ct) =>
                {
                    var id = s.Get(chain);
                    var answer = await s.Node.GetAsync(id is { } c ? $"/admin/v1/market/{c}" : "/admin/v1/market", ct);
                    return s.Show(answer, market =>
                    {
                        if (id is null) RenderAll(s.Output, market.Items("chains").ToArray());
                        else RenderOne(s.Output, market);
                    });
                }));
    }

    private static void RenderAll(Output output, JsonElement[] chains)
    {
        output.Table(null, ["chain", "name", "state", "median gwei", "volatility bps", "buffer bps", "pool mode", "sources used", "priced at"],
            chains.Select(c => new[]
            {
                c.Text("chainId"), c.Text("name"), c.Text("state"), Gwei(c.Text("medianWeiPerGas")), c.Text("volatilityBps"), c.Text("bufferBps"),
                c.Text("poolMode"), $"{c.Items("sources").Count(s => s.Text("verdict") == "used")}/{c.Items("sources").Count()}", c.Text("at"),
            }));
        output.Line("");
        RenderRates(output, chains);
    }

    private static void RenderOne(Output output, JsonElement chain)
    {
        output.Fields($"Market of chain {chain.Text("chainId")} ({chain.Text("name")})",
        [
            ("state", chain.Text("state")), ("median gwei", Gwei(chain.Text("medianWeiPerGas"))), ("median wei", chain.Text("medianWeiPerGas")),
            ("volatility bps", chain.Text("volatilityBps")), ("buffer bps", chain.Text("bufferBps")), ("pool mode", chain.Text("poolMode")),
            ("priced at", chain.Text("at")),
        ]);
        output.Line("");
        output.Table("Gas sources", ["source", "verdict", "last gwei", "age s", "latency ms", "errors", "last error"],
            chain.Items("sources").Select(s => new[]
            {
                s.Text("name"), s.Text("verdict"), Gwei(s.Text("lastWeiPerGas")), s.Text("ageSeconds"), s.Text("latencyMs"), s.Text("errors"), s.Text("lastError"),
            }));
        output.Line("");
        RenderRates(output, [chain]);
    }

    private static void RenderRates(Output output, JsonElement[] chains) =>
        output.Table("Rates (token base units per native coin)", ["chain", "token", "units per native coin", "fresh sources", "oldest used"],
            chains.SelectMany(c => c.Items("rates").Select(r => new[]
            {
                c.Text("chainId"), r.Text("token"), r.Text("unitsPerNativeCoin"), r.Text("freshSources"), r.Text("oldestUsedAt"),
            })));

    /// <summary>Wei per gas as gwei with up to three decimals (the node's exact wei stays in --json).</summary>
    private static string? Gwei(string? wei) =>
        decimal.TryParse(wei, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? (value / 1_000_000_000m).ToString("0.###", CultureInfo.InvariantCulture)
            : wei;
}
