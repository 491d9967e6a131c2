using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Domain.Market;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Market;

/// <summary>Conversion rates of the market (DESIGN.md §3); the gas side is the oracle's (<c>hocon/market.hocon</c>).</summary>
public sealed class MarketOptions
{
    /// <summary>
    /// Token base units per whole native coin, per chain id and token symbol, as decimal strings:
    /// <c>Rates:31337:USDT = "3000000000"</c> is 1 ETH = 3,000 USDT. A chain without an entry uses <see cref="DefaultRates"/>.
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Rates { get; set; } = new();

    public Dictionary<string, string> DefaultRates { get; set; } = new()
    {
        ["USDT"] = "3000000000", // 1 native coin = 3,000 USDT (6 decimals)
        ["VCN"] = "300000000000000000000000", // 1 native coin = 300,000 VCN (18 decimals)
    };

    /// <summary>HOCON laid over <c>hocon/market.hocon</c> (e.g. <c>gpm.market.rates.fresh-for = 10s</c>): the oracles' knobs without a rebuild.</summary>
    public string Hocon { get; set; } = "";

    /// <summary>The configured rates of <paramref name="chainId"/> (its own entry, else the defaults); unparsable or non-positive ones are left out.</summary>
    public ImmutableDictionary<FeeToken, BigInteger> ConfiguredRates(long chainId)
    {
        var rates = Rates.GetValueOrDefault(chainId.ToString(CultureInfo.InvariantCulture)) ?? DefaultRates;
        return rates.Where(kv => FeeTokens.TryParse(kv.Key, out _))
            .Select(kv => (Token: FeeTokens.TryParse(kv.Key, out var t) ? t : default, Ok: BigInteger.TryParse(kv.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var units), units))
            .Where(r => r.Ok && r.units > 0)
            .ToImmutableDictionary(r => r.Token, r => r.units);
    }
}

/// <summary>What a quote is priced with. Read from a local snapshot: never an RPC call per quote.</summary>
public interface IMarketView
{
    /// <summary>The chain's gas market, or null while the oracle has not produced one (or the chain is not configured).</summary>
    GasMarket? Gas(ChainId chainId);

    ConversionRate? Rate(ChainId chainId, FeeToken token);
}

/// <summary>
/// The market as the edge reads it, from this node's boards: the gas oracle's latest market of each chain (median, state,
/// volatility, buffer) and the rate oracle's latest rates.
/// </summary>
/// <remarks>A market or rate older than its freshness window (<see cref="MarketFreshness"/>) is not offered: the oracles stopped publishing.</remarks>
public sealed class OracleMarketView(GasMarketBoard gas, RateBoard rates, MarketFreshness freshness, TimeProvider clock) : IMarketView
{
    public GasMarket? Gas(ChainId chainId) =>
        gas.Get(chainId.Value)?.Market is { } market && clock.GetUtcNow() - market.At <= freshness.Gas ? market : null;

    public ConversionRate? Rate(ChainId chainId, FeeToken token) =>
        rates.Get(chainId.Value) is { } view && clock.GetUtcNow() - view.At <= freshness.Rates ? view.Rates.GetValueOrDefault(token)?.Rate : null;
}
