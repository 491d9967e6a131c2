using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Domain.Market;

/// <summary>What an operator sees of one source: its last good reading, and how it has been failing since.</summary>
public sealed record GasSourceHealth(string Source, GasReading? LastGood, TimeSpan LastLatency, long Errors, string? LastError, DateTimeOffset? LastErrorAt);

/// <summary>
/// One chain's gas oracle between ticks, pure: each source's last good reading (a failure does not erase it; it only
/// stops counting once it is older than the freshness window), error counts, the recent medians (for volatility) and
/// the market the last tick produced.
/// </summary>
public sealed record GasOracleState(long ChainId, ImmutableDictionary<string, GasSourceHealth> Sources, ImmutableList<BigInteger> RecentMedians, GasMarket? Market)
    : IPaymasterMessage
{
    /// <summary>How many transactions the chain's mempool held at the last tick, where a node tells (<c>txpool_status</c>).</summary>
    public BigInteger? MempoolPending { get; init; }

    /// <summary>
    /// The mean of the recent medians before the current one (the current one itself while it is the only one): what a
    /// spike is measured against.
    /// </summary>
    public BigInteger? TrailingAverage => RecentMedians.Count switch
    {
        0 => null,
        1 => RecentMedians[0],
        _ => RecentMedians.Take(RecentMedians.Count - 1).Aggregate(BigInteger.Zero, (a, b) => a + b) / (RecentMedians.Count - 1),
    };

    public static GasOracleState Empty(long chainId) =>
        new(chainId, ImmutableDictionary<string, GasSourceHealth>.Empty, ImmutableList<BigInteger>.Empty, null);

    /// <summary>A tick's answers (one per source; a failure carries its error) folded in, and the market recomputed.</summary>
    public GasOracleState Next(IReadOnlyList<(GasReading Reading, TimeSpan Latency)> answers, DateTimeOffset now, GasOraclePolicy policy)
    {
        var sources = Sources;
        foreach (var (reading, latency) in answers)
        {
            var known = sources.GetValueOrDefault(reading.Source) ?? new GasSourceHealth(reading.Source, null, TimeSpan.Zero, 0, null, null);
            sources = sources.SetItem(reading.Source, reading.WeiPerGas is null
                ? known with { LastLatency = latency, Errors = known.Errors + 1, LastError = reading.Error, LastErrorAt = reading.At }
                : known with { LastGood = reading, LastLatency = latency });
        }

        var latest = sources.Values.OrderBy(s => s.Source, StringComparer.Ordinal)
            .Select(s => s.LastGood ?? GasReading.Failed(s.Source, s.LastErrorAt ?? now, s.LastError ?? "no answer yet")).ToList();
        var market = GasAggregation.Aggregate(ChainId, latest, RecentMedians.IsEmpty ? null : RecentMedians[^1], RecentMedians, now, policy);
        var medians = market.Median is { } median ? RecentMedians.Add(median) : RecentMedians;
        if (medians.Count > policy.VolatilityWindow) medians = medians.RemoveRange(0, medians.Count - policy.VolatilityWindow);
        return this with { Sources = sources, RecentMedians = medians, Market = market };
    }
}
