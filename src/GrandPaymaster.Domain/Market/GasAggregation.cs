using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Market;

/// <summary>How much the market of one chain can be trusted: enough fresh sources, one, or none (no quotes).</summary>
public enum MarketState
{
    Normal,
    Degraded,
    Stale,
}

/// <summary>One source's latest answer: a gas price in wei, or the error it gave instead (with when it was asked).</summary>
public sealed record GasReading(string Source, BigInteger? WeiPerGas, DateTimeOffset At, string? Error = null)
{
    public static GasReading Failed(string source, DateTimeOffset at, string error) => new(source, null, at, error);
}

/// <summary>
/// The oracle's knobs for one chain. A price outside <c>(0, Floor..Ceiling)</c> is never used; a reading older than
/// <see cref="FreshFor"/> does not count; a reading more than <see cref="OutlierRatio"/> times away from the others'
/// consensus is an outlier; the buffer is <c>clamp(BaseBuffer + VolatilityFactor × volatility, MinBuffer, MaxBuffer)</c>
/// over the last <see cref="VolatilityWindow"/> medians.
/// </summary>
public sealed record GasOraclePolicy
{
    public BigInteger Floor { get; init; } = 1;
    public BigInteger Ceiling { get; init; } = BigInteger.Pow(10, 13); // 10,000 gwei
    public TimeSpan FreshFor { get; init; } = TimeSpan.FromSeconds(10);
    public int OutlierRatio { get; init; } = 10;
    public int VolatilityWindow { get; init; } = 30;
    public Bps BaseBuffer { get; init; } = new(2_000);
    public decimal VolatilityFactor { get; init; } = 1m;
    public Bps MinBuffer { get; init; } = new(1_000);
    public Bps MaxBuffer { get; init; } = new(10_000);
}

/// <summary>A source's standing in one aggregation.</summary>
public enum SourceVerdict
{
    Used,
    Outlier,
    OutOfBounds,
    NotFresh,
    Failed,
}

/// <summary>What the median was made of: each source's latest reading and what became of it.</summary>
public sealed record GasSourceView(GasReading Reading, SourceVerdict Verdict);

/// <summary>
/// One chain's gas market at one moment: the median of the usable fresh sources (null when stale), the state, how
/// volatile the median has been, the buffer that follows from it, and every source's standing.
/// </summary>
public sealed record GasMarket(
    long ChainId,
    BigInteger? Median,
    MarketState State,
    Bps Volatility,
    Bps Buffer,
    ImmutableArray<GasSourceView> Sources,
    DateTimeOffset At)
{
    public IEnumerable<string> Outliers => Sources.Where(s => s.Verdict == SourceVerdict.Outlier).Select(s => s.Reading.Source);
}

/// <summary>
/// The gas oracle's arithmetic, pure: the median of fresh, sane sources that agree, and the buffer that follows the
/// median's volatility. No single source can move the median on its own: with three or more usable readings a value
/// more than <see cref="GasOraclePolicy.OutlierRatio"/> times from their median is an outlier; with two that disagree, the
/// last accepted median decides which one is sane (without one, neither is used).
/// </summary>
public static class GasAggregation
{
    /// <remarks>
    /// Fail closed: a lone source more than the ratio away from the last accepted median stays an outlier however old that
    /// median is (the chain is stale, no quotes) — a wild source must never become the market because the others went quiet.
    /// </remarks>
    public static GasMarket Aggregate(long chainId, IReadOnlyList<GasReading> latest, BigInteger? lastMedian, IReadOnlyList<BigInteger> recentMedians,
        DateTimeOffset now, GasOraclePolicy policy)
    {
        var views = latest.Select(r => new GasSourceView(r, Screen(r, now, policy))).ToList();
        var sane = views.Where(v => v.Verdict == SourceVerdict.Used).Select(v => v.Reading.WeiPerGas!.Value).ToList();
        var reference = Reference(sane, lastMedian, policy.OutlierRatio);
        var used = new List<BigInteger>();
        for (var i = 0; i < views.Count; i++)
        {
            if (views[i].Verdict != SourceVerdict.Used) continue;
            var value = views[i].Reading.WeiPerGas!.Value;
            if (reference is { } r && Agrees(value, r, policy.OutlierRatio)) used.Add(value);
            else views[i] = views[i] with { Verdict = SourceVerdict.Outlier };
        }

        var median = used.Count == 0 ? (BigInteger?)null : Median(used);
        var state = used.Count switch
        {
            0 => MarketState.Stale,
            1 => MarketState.Degraded,
            _ => MarketState.Normal,
        };
        var window = median is { } m ? recentMedians.Append(m).TakeLast(policy.VolatilityWindow).ToList() : recentMedians.TakeLast(policy.VolatilityWindow).ToList();
        var volatility = Volatility(window);
        return new GasMarket(chainId, median, state, volatility, Buffer(volatility, policy), [.. views], now);
    }

    private static SourceVerdict Screen(GasReading reading, DateTimeOffset now, GasOraclePolicy policy)
    {
        if (reading.WeiPerGas is not { } value) return SourceVerdict.Failed;
        if (now - reading.At > policy.FreshFor) return SourceVerdict.NotFresh;
        return value <= 0 || value < policy.Floor || value > policy.Ceiling ? SourceVerdict.OutOfBounds : SourceVerdict.Used;
    }

    /// <summary>What the sane readings are held against: their median when three or more, or two that agree; else the last accepted median.</summary>
    private static BigInteger? Reference(IReadOnlyList<BigInteger> sane, BigInteger? lastMedian, int ratio) => sane.Count switch
    {
        0 => null,
        1 => lastMedian is { } last && !Agrees(sane[0], last, ratio) ? last : sane[0],
        2 when !Agrees(sane[0], sane[1], ratio) => lastMedian,
        _ => Median(sane),
    };

    /// <summary>Within <paramref name="ratio"/> times of each other, either way.</summary>
    public static bool Agrees(BigInteger a, BigInteger b, int ratio) => a <= b * ratio && b <= a * ratio;

    /// <summary>The median; of an even count, the lower middle's and upper middle's mean rounded up (a price is never understated).</summary>
    public static BigInteger Median(IReadOnlyList<BigInteger> values)
    {
        if (values.Count == 0) throw new ArgumentException("The median of nothing.", nameof(values));
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid] + 1) / 2;
    }

    /// <summary>The coefficient of variation of the medians (population standard deviation over mean), in basis points.</summary>
    public static Bps Volatility(IReadOnlyList<BigInteger> medians)
    {
        if (medians.Count < 2) return new Bps(0);
        var values = medians.Select(m => (double)m).ToArray();
        var mean = values.Average();
        if (mean <= 0) return new Bps(0);
        var deviation = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return new Bps((int)Math.Min(Math.Round(deviation / mean * Bps.Denominator), int.MaxValue));
    }

    /// <summary><c>clamp(base + factor × volatility, min, max)</c>.</summary>
    public static Bps Buffer(Bps volatility, GasOraclePolicy policy)
    {
        var raw = policy.BaseBuffer.Value + policy.VolatilityFactor * volatility.Value;
        return new Bps((int)Math.Clamp(Math.Ceiling(raw), policy.MinBuffer.Value, policy.MaxBuffer.Value));
    }
}
