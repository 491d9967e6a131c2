using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Market;

/// <summary>One rate source's answer: token base units per native coin, per token (a token it does not price is absent), or its error.</summary>
public sealed record RateReading(string Source, ImmutableDictionary<FeeToken, BigInteger> Rates, DateTimeOffset At, string? Error = null)
{
    public static RateReading Failed(string source, DateTimeOffset at, string error) =>
        new(source, ImmutableDictionary<FeeToken, BigInteger>.Empty, at, error);
}

/// <summary>How often a rate source failed, and its last error.</summary>
public sealed record RateSourceFailures(long Errors, string? LastError);

/// <summary>One chain's rates as the edges read them: per token the rate (or none) and the sources' failures, as of <see cref="At"/>.</summary>
public sealed record RateView(long ChainId, ImmutableDictionary<FeeToken, TokenRate> Rates, ImmutableDictionary<string, RateSourceFailures> Failures,
    DateTimeOffset At) : IPaymasterMessage;

/// <summary>A token's rate on one chain: the median of the sources' fresh answers, and how many answered.</summary>
public sealed record TokenRate(FeeToken Token, BigInteger? UnitsPerNativeCoin, int FreshSources, DateTimeOffset? OldestUsedAt)
{
    public ConversionRate? Rate => UnitsPerNativeCoin is { } units ? new ConversionRate(Token, units) : null;
}

/// <summary>
/// One chain's conversion rates between ticks, pure: each source's last good answer per token (a failure does not erase
/// it, it only stops counting once older than <c>freshFor</c>) and, per token, the median of the fresh, positive ones.
/// A token without a fresh answer has no rate: no quote is priced in it at an old rate.
/// </summary>
public sealed record RateOracleState(long ChainId, ImmutableDictionary<(string Source, FeeToken Token), (BigInteger Units, DateTimeOffset At)> LastGood,
    ImmutableDictionary<string, RateSourceFailures> Failures, ImmutableDictionary<FeeToken, TokenRate> Rates, DateTimeOffset At)
{
    public static RateOracleState Empty(long chainId) => new(chainId, ImmutableDictionary<(string, FeeToken), (BigInteger, DateTimeOffset)>.Empty,
        ImmutableDictionary<string, RateSourceFailures>.Empty, ImmutableDictionary<FeeToken, TokenRate>.Empty, DateTimeOffset.MinValue);

    /// <summary>What the edges and operators need of it (replicated to every node).</summary>
    public RateView View => new(ChainId, Rates, Failures, At);

    /// <param name="outlierRatio">
    /// Fresh answers more than this many times from the others' median (three or more) are left out; two that disagree so
    /// much give no rate at all (which one is wrong cannot be told).
    /// </param>
    public RateOracleState Next(IReadOnlyList<RateReading> answers, DateTimeOffset now, TimeSpan freshFor, int outlierRatio = 2)
    {
        var lastGood = LastGood;
        var failures = Failures;
        foreach (var answer in answers)
        {
            if (answer.Error is not null)
            {
                var errors = failures.GetValueOrDefault(answer.Source)?.Errors ?? 0;
                failures = failures.SetItem(answer.Source, new RateSourceFailures(errors + 1, answer.Error));
                continue;
            }

            foreach (var (token, units) in answer.Rates)
                if (units > 0)
                    lastGood = lastGood.SetItem((answer.Source, token), (units, answer.At));
        }

        var rates = Enum.GetValues<FeeToken>().ToImmutableDictionary(token => token, token =>
        {
            var fresh = lastGood.Where(kv => kv.Key.Token == token && now - kv.Value.At <= freshFor).Select(kv => kv.Value).ToList();
            if (fresh.Count >= 3)
            {
                var reference = GasAggregation.Median(fresh.Select(f => f.Units).ToList());
                fresh = fresh.Where(f => GasAggregation.Agrees(f.Units, reference, outlierRatio)).ToList();
            }
            else if (fresh.Count == 2 && !GasAggregation.Agrees(fresh[0].Units, fresh[1].Units, outlierRatio))
            {
                fresh = [];
            }

            return fresh.Count == 0
                ? new TokenRate(token, null, 0, null)
                : new TokenRate(token, GasAggregation.Median(fresh.Select(f => f.Units).ToList()), fresh.Count, fresh.Min(f => f.At));
        });
        return this with { LastGood = lastGood, Failures = failures, Rates = rates, At = now };
    }
}
