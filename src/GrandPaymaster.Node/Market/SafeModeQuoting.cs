using System.Globalization;
using System.Numerics;
using Akka.Configuration;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Node.Market;

/// <summary>
/// How the edge quotes a chain whose pool is in SAFE_MODE (<c>gpm.market.safe-mode</c>): a multiplied buffer, and no
/// quote whose most native gas is above the chain's high-value limit.
/// </summary>
public sealed class SafeModeQuoting(Config safeMode)
{
    private Config For(long chainId)
    {
        var chain = safeMode.GetConfig($"chains.\"{chainId.ToString(CultureInfo.InvariantCulture)}\"");
        return chain is null || chain.IsEmpty ? safeMode : chain.WithFallback(safeMode);
    }

    /// <summary>The pools' side of it: what makes a pool enter SAFE_MODE and how long it stays.</summary>
    public SafeModePolicy Policy(long chainId)
    {
        var c = For(chainId);
        return new SafeModePolicy
        {
            SpikeBps = c.GetInt("spike-bps"),
            VolatilityBps = c.GetInt("volatility-bps"),
            CongestedPending = c.GetLong("congested-pending"),
            FailureRateBps = c.GetInt("failure-rate-bps"),
            FailureRateMinOutcomes = c.GetInt("failure-rate-min-outcomes"),
            CalmPeriod = c.GetTimeSpan("calm-period"),
        };
    }

    public Bps Buffer(long chainId, Bps normal) => new((int)Math.Min((long)normal.Value * For(chainId).GetInt("buffer-multiplier-bps") / Bps.Denominator, int.MaxValue));

    public BigInteger HighValueLimitWei(long chainId) => BigInteger.Parse(For(chainId).GetString("high-value-limit-wei"), CultureInfo.InvariantCulture);

    /// <summary>The most native gas a quote can cost: <c>gasLimit × gasPrice × (1 + buffer)</c>, rounded up.</summary>
    public static BigInteger MostNativeGas(BigInteger gasLimit, Wei gasPrice, Bps buffer) =>
        Domain.Fees.FeeEngine.CeilDiv(gasLimit * gasPrice.Value * (Bps.Denominator + buffer.Value), Bps.Denominator);
}

/// <summary>
/// How old a replicated market may be when a quote is priced from it (the gas and rate oracles' own freshness windows):
/// should the oracles stop publishing (their node gone, a singleton moving), quotes stop rather than go on at the last price.
/// </summary>
public sealed record MarketFreshness(TimeSpan Gas, TimeSpan Rates);
