using System.Collections.Immutable;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Tests.Market;

public sealed class RateOracleStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(30);

    private static RateReading Reading(string source, DateTimeOffset at, long? usdt = null, long? vcn = null)
    {
        var rates = ImmutableDictionary<FeeToken, BigInteger>.Empty;
        if (usdt is { } u) rates = rates.Add(FeeToken.Usdt, u);
        if (vcn is { } v) rates = rates.Add(FeeToken.Vcn, v);
        return new RateReading(source, rates, at);
    }

    [Fact]
    public void Each_token_gets_the_median_of_its_fresh_sources()
    {
        var state = RateOracleState.Empty(1).Next([Reading("a", Start, usdt: 3_000, vcn: 300), Reading("b", Start, usdt: 3_100), Reading("c", Start, usdt: 2_900)],
            Start, FreshFor);

        Assert.Equal(new ConversionRate(FeeToken.Usdt, 3_000), state.Rates[FeeToken.Usdt].Rate);
        Assert.Equal(3, state.Rates[FeeToken.Usdt].FreshSources);
        Assert.Equal(new ConversionRate(FeeToken.Vcn, 300), state.Rates[FeeToken.Vcn].Rate);
    }

    [Fact]
    public void A_failing_source_keeps_its_last_rate_while_fresh_and_then_the_token_has_no_rate()
    {
        var state = RateOracleState.Empty(1).Next([Reading("a", Start, usdt: 3_000, vcn: 300)], Start, FreshFor);

        state = state.Next([RateReading.Failed("a", Start.AddSeconds(20), "timeout")], Start.AddSeconds(20), FreshFor);
        Assert.Equal(3_000, state.Rates[FeeToken.Usdt].UnitsPerNativeCoin);
        Assert.Equal(new RateSourceFailures(1, "timeout"), state.Failures["a"]);

        state = state.Next([Reading("a", Start.AddSeconds(31), usdt: 3_050)], Start.AddSeconds(31), FreshFor);
        Assert.Equal(3_050, state.Rates[FeeToken.Usdt].UnitsPerNativeCoin);
        Assert.Null(state.Rates[FeeToken.Vcn].Rate); // VCN was last priced 31 s ago: never quoted at an old rate
    }

    [Property(MaxTest = 300)]
    public Property A_rate_is_never_older_than_the_freshness_window_nor_zero_lies_within_its_fresh_answers_and_is_missing_only_when_they_disagree() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, 8).SelectMany(n => Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 60), Gen.Choose(-1, 5_000)), n))), answers =>
        {
            var now = Start.AddSeconds(60);
            var readings = answers.Select((a, i) => Reading($"s{i}", Start.AddSeconds(a.Item1), usdt: a.Item2)).ToList();
            var rate = RateOracleState.Empty(1).Next(readings, now, FreshFor).Rates[FeeToken.Usdt];
            var fresh = answers.Where(a => now - Start.AddSeconds(a.Item1) <= FreshFor && a.Item2 > 0).Select(a => (BigInteger)a.Item2).ToList();
            // No rate only when nothing is fresh or two fresh answers disagree; otherwise within the fresh answers.
            return rate.Rate is null
                ? fresh.Count == 0 || (fresh.Count == 2 && !GasAggregation.Agrees(fresh[0], fresh[1], 2))
                : rate.UnitsPerNativeCoin >= fresh.Min() && rate.UnitsPerNativeCoin <= fresh.Max() && rate.FreshSources >= 1 && rate.FreshSources <= fresh.Count;
        });
}

public sealed class GasOracleStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_failed_answer_keeps_the_sources_last_price_and_the_trailing_average_excludes_the_current_median()
    {
        var state = GasOracleState.Empty(1);
        foreach (var (price, second) in new[] { (10L, 0), (10L, 1), (50L, 2) })
            state = state.Next([(new GasReading("a", price, Start.AddSeconds(second)), TimeSpan.FromMilliseconds(3))], Start.AddSeconds(second), new GasOraclePolicy());

        Assert.Equal(50, state.Market!.Median);
        Assert.Equal(10, state.TrailingAverage); // a doubling shows as one against the medians before it

        state = state.Next([(GasReading.Failed("a", Start.AddSeconds(3), "timeout"), TimeSpan.FromMilliseconds(500))], Start.AddSeconds(3), new GasOraclePolicy());
        Assert.Equal(50, state.Sources["a"].LastGood!.WeiPerGas);
        Assert.Equal((1L, "timeout"), (state.Sources["a"].Errors, state.Sources["a"].LastError));
        Assert.Equal(50, state.Market!.Median);
    }
}

public sealed class GasOracleStateFailClosedTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly GasOraclePolicy Policy = new() { FreshFor = TimeSpan.FromSeconds(10) };

    [Fact]
    public void A_lone_source_far_from_the_last_median_stays_an_outlier_however_long_the_others_are_quiet()
    {
        var state = GasOracleState.Empty(1).Next([(new GasReading("a", 10, Start), TimeSpan.Zero)], Start, Policy);

        foreach (var seconds in new[] { 5, 30, 600 })
        {
            state = state.Next([(new GasReading("a", 500, Start.AddSeconds(seconds)), TimeSpan.Zero)], Start.AddSeconds(seconds), Policy);
            Assert.Equal(MarketState.Stale, state.Market!.State); // 50× the last accepted median: never the market on its own
        }
    }
}

public sealed class RateOutlierTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static RateReading Usdt(string source, long units) =>
        new(source, ImmutableDictionary<FeeToken, BigInteger>.Empty.Add(FeeToken.Usdt, units), At);

    [Fact]
    public void A_wild_feed_among_three_is_left_out_and_two_that_disagree_give_no_rate()
    {
        var three = RateOracleState.Empty(1).Next([Usdt("a", 3_000), Usdt("b", 3_010), Usdt("c", 30_000)], At, TimeSpan.FromSeconds(30));
        Assert.Equal((BigInteger?)3_005, three.Rates[FeeToken.Usdt].UnitsPerNativeCoin);
        Assert.Equal(2, three.Rates[FeeToken.Usdt].FreshSources);

        var two = RateOracleState.Empty(1).Next([Usdt("a", 3_000), Usdt("c", 30_000)], At, TimeSpan.FromSeconds(30));
        Assert.Null(two.Rates[FeeToken.Usdt].Rate);
    }
}
