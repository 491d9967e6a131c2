using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Tests.Market;

public sealed class GasAggregationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly GasOraclePolicy Policy = new() { Floor = 1, Ceiling = 1_000_000_000_000, FreshFor = TimeSpan.FromSeconds(10) };
    private static readonly BigInteger Gwei = 1_000_000_000;

    private static GasReading At(string source, BigInteger wei, double secondsAgo = 0) => new(source, wei, Now.AddSeconds(-secondsAgo));

    private static GasMarket Aggregate(BigInteger? lastMedian, params GasReading[] readings) =>
        GasAggregation.Aggregate(31337, readings, lastMedian, [], Now, Policy);

    [Fact]
    public void Three_fresh_sources_give_their_median_and_a_normal_market()
    {
        var market = Aggregate(null, At("a", 10 * Gwei), At("b", 12 * Gwei), At("c", 11 * Gwei));

        Assert.Equal(11 * Gwei, market.Median);
        Assert.Equal(MarketState.Normal, market.State);
        Assert.All(market.Sources, s => Assert.Equal(SourceVerdict.Used, s.Verdict));
    }

    [Fact]
    public void S3_a_timed_out_source_and_a_100x_outlier_leave_the_sane_source_and_name_the_outlier()
    {
        var market = Aggregate(10 * Gwei, GasReading.Failed("a", Now, "timeout"), At("b", 1_000 * Gwei), At("c", 11 * Gwei));

        Assert.Equal(11 * Gwei, market.Median);
        Assert.Equal(MarketState.Degraded, market.State);
        Assert.Equal(["b"], market.Outliers);
        Assert.Equal(SourceVerdict.Failed, market.Sources.Single(s => s.Reading.Source == "a").Verdict);
    }

    [Fact]
    public void With_three_fresh_sources_an_outlier_is_excluded_without_any_history()
    {
        var market = Aggregate(null, At("a", 10 * Gwei), At("b", 1_000 * Gwei), At("c", 11 * Gwei));

        Assert.Equal((BigInteger)(21 * Gwei / 2), market.Median);
        Assert.Equal(["b"], market.Outliers);
        Assert.Equal(MarketState.Normal, market.State);
    }

    [Fact]
    public void Two_sources_that_disagree_without_a_previous_median_are_both_unusable()
    {
        var market = Aggregate(null, At("a", 10 * Gwei), At("b", 1_000 * Gwei));

        Assert.Null(market.Median);
        Assert.Equal(MarketState.Stale, market.State);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(2_000_000_000_000)] // above the ceiling
    public void A_price_of_zero_or_out_of_bounds_is_never_used(long wei)
    {
        var market = Aggregate(null, At("a", wei), At("b", 10 * Gwei), At("c", 12 * Gwei));

        Assert.Equal(SourceVerdict.OutOfBounds, market.Sources[0].Verdict);
        Assert.Equal(11 * Gwei, market.Median);
    }

    [Fact]
    public void Readings_older_than_the_freshness_window_do_not_count_and_none_fresh_is_stale()
    {
        var market = Aggregate(10 * Gwei, At("a", 10 * Gwei, secondsAgo: 11), At("b", 10 * Gwei, secondsAgo: 30));

        Assert.Null(market.Median);
        Assert.Equal(MarketState.Stale, market.State);
        Assert.All(market.Sources, s => Assert.Equal(SourceVerdict.NotFresh, s.Verdict));
    }

    [Fact]
    public void The_buffer_follows_volatility_within_its_bounds()
    {
        var policy = Policy with { BaseBuffer = new Bps(2_000), VolatilityFactor = 2m, MinBuffer = new Bps(1_500), MaxBuffer = new Bps(6_000) };

        Assert.Equal(new Bps(2_000), GasAggregation.Buffer(new Bps(0), policy));
        Assert.Equal(new Bps(3_000), GasAggregation.Buffer(new Bps(500), policy));
        Assert.Equal(new Bps(6_000), GasAggregation.Buffer(new Bps(9_000), policy));
        Assert.Equal(new Bps(0), GasAggregation.Volatility([10 * Gwei, 10 * Gwei, 10 * Gwei]));
        // 10 and 30 gwei: mean 20, deviation 10 → 50 %.
        Assert.Equal(new Bps(5_000), GasAggregation.Volatility([10 * Gwei, 30 * Gwei]));
    }

    // ---------------------------------------------------------------- properties

    private static Arbitrary<BigInteger[]> Prices() =>
        Arb.From(Gen.Choose(0, 6).SelectMany(count => Gen.ArrayOf(Gen.Choose(-2, 2_000).Select(n => n < 0 ? BigInteger.Zero : (BigInteger)n * Gwei / 10), count)));

    [Property(MaxTest = 500)]
    public Property The_median_is_always_a_fresh_in_bounds_reading_range_and_never_an_outlier() =>
        Prop.ForAll(Prices(), Arb.From(Gen.Choose(0, 100)), (prices, lastGwei) =>
        {
            var readings = prices.Select((p, i) => At($"s{i}", p, secondsAgo: i % 4 == 3 ? 20 : 0)).ToArray();
            BigInteger? last = lastGwei == 0 ? null : lastGwei * Gwei;
            var market = Aggregate(last, readings);
            var used = market.Sources.Where(s => s.Verdict == SourceVerdict.Used).Select(s => s.Reading.WeiPerGas!.Value).ToList();

            var usedAreSane = used.All(v => v > 0 && v >= Policy.Floor && v <= Policy.Ceiling);
            var staleNeverUsed = market.Sources.Where(s => Now - s.Reading.At > Policy.FreshFor).All(s => s.Verdict == SourceVerdict.NotFresh);
            var usedAgree = used.All(a => used.All(b => GasAggregation.Agrees(a, b, Policy.OutlierRatio * Policy.OutlierRatio)));
            var medianInRange = market.Median is not { } m || (used.Count > 0 && m >= used.Min() && m <= used.Max());
            var stateMatches = market.State == (used.Count switch { 0 => MarketState.Stale, 1 => MarketState.Degraded, _ => MarketState.Normal })
                               && (market.Median is null) == (used.Count == 0);
            return usedAreSane && staleNeverUsed && usedAgree && medianInRange && stateMatches;
        });

    [Property(MaxTest = 300)]
    public Property One_source_alone_cannot_move_the_median_out_of_the_others_range_when_three_agree() =>
        Prop.ForAll(Arb.From(Gen.Choose(1, 1_000)), Arb.From(Gen.Choose(1, 1_000_000)), (baseGwei, wild) =>
        {
            var sane = new BigInteger[] { baseGwei * Gwei, baseGwei * Gwei * 11 / 10, baseGwei * Gwei * 12 / 10 };
            var market = Aggregate(null, At("a", sane[0]), At("b", sane[1]), At("c", sane[2]), At("x", (BigInteger)wild * Gwei));
            return market.Median is { } m && m >= sane[0] && m <= sane[2] + sane[2] / 10;
        });
}
