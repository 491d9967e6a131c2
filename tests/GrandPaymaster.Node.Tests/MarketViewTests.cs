using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Node.Market;

namespace GrandPaymaster.Node.Tests;

/// <summary>The edge's reading of the replicated market: nothing older than the oracles' freshness windows is priced from.</summary>
public sealed class MarketViewTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void A_market_or_rate_the_oracles_stopped_publishing_is_not_offered_once_older_than_its_freshness_window()
    {
        var gas = new GasMarketBoard();
        gas.Set(1, GasOracleState.Empty(1).Next([(new GasReading("a", 10, At), TimeSpan.Zero)], At, new GasOraclePolicy()));
        var rates = new RateBoard();
        rates.Set(1, RateOracleState.Empty(1).Next([new RateReading("r", ImmutableDictionary<FeeToken, BigInteger>.Empty.Add(FeeToken.Usdt, 3_000), At)],
            At, TimeSpan.FromSeconds(30)).View);
        var clock = new Clock(At.AddSeconds(9));
        var view = new OracleMarketView(gas, rates, new MarketFreshness(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)), clock);

        Assert.Equal(10, view.Gas(new ChainId(1))!.Median);
        Assert.Equal(new ConversionRate(FeeToken.Usdt, 3_000), view.Rate(new ChainId(1), FeeToken.Usdt));

        clock.Now = At.AddSeconds(11);
        Assert.Null(view.Gas(new ChainId(1)));
        Assert.NotNull(view.Rate(new ChainId(1), FeeToken.Usdt));
        clock.Now = At.AddSeconds(31);
        Assert.Null(view.Rate(new ChainId(1), FeeToken.Usdt));
    }
}
