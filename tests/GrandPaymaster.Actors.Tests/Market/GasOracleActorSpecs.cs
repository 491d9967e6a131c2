using System.Numerics;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Market;
using Xunit.Abstractions;

namespace GrandPaymaster.Actors.Tests.Market;

/// <summary>The gas oracle's stream with scripted sources: what reaches the board, tick after tick.</summary>
public sealed class GasOracleActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private static readonly BigInteger Gwei = 1_000_000_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A source whose next answer the test sets: a price, a failure, or a hang.</summary>
    private sealed class ScriptedSource(string name) : IGasSource
    {
        public volatile Func<CancellationToken, Task<BigInteger>> Next = _ => Task.FromResult(10 * Gwei);

        public string Name => name;

        public Task<BigInteger> ReadAsync(CancellationToken ct) => Next(ct);
    }

    private static GasOracleSettings Settings(params IGasSource[] sources) =>
        // Timeouts generous enough that a busy test machine does not fail the sources that do answer.
        new(31337, sources, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(750), new GasOraclePolicy { FreshFor = TimeSpan.FromSeconds(2) });

    private async Task<GasMarket> MarketWhereAsync(GasMarketBoard board, Func<GasMarket, bool> condition)
    {
        GasMarket? seen = null;
        await AwaitAssertAsync(() =>
        {
            seen = board.Get(31337)?.Market;
            Assert.True(seen is not null && condition(seen), $"market now: {seen}");
        }, Wait, TimeSpan.FromMilliseconds(20));
        return seen!;
    }

    [Fact]
    public async Task Three_answering_sources_give_their_median_on_every_tick()
    {
        var (a, b, c) = (new ScriptedSource("a"), new ScriptedSource("b"), new ScriptedSource("c"));
        b.Next = _ => Task.FromResult(12 * Gwei);
        c.Next = _ => Task.FromResult(11 * Gwei);
        var board = new GasMarketBoard();
        Sys.ActorOf(GasOracleActor.PropsFor([Settings(a, b, c)], board, TimeProvider.System));

        var market = await MarketWhereAsync(board, m => m.State == MarketState.Normal);
        Assert.Equal(11 * Gwei, market.Median);

        c.Next = _ => Task.FromResult(13 * Gwei); // the next tick reads again
        await MarketWhereAsync(board, m => m.Median == 12 * Gwei);
    }

    [Fact]
    public async Task S3_a_hanging_source_and_a_100x_outlier_leave_the_sane_median_and_the_stream_lives_on()
    {
        var (a, b, c) = (new ScriptedSource("a"), new ScriptedSource("b"), new ScriptedSource("c"));
        var board = new GasMarketBoard();
        Sys.ActorOf(GasOracleActor.PropsFor([Settings(a, b, c)], board, TimeProvider.System));
        await MarketWhereAsync(board, m => m.State == MarketState.Normal && m.Median == 10 * Gwei);

        a.Next = _ => new TaskCompletionSource<BigInteger>().Task; // never answers, even when asked to stop
        b.Next = _ => Task.FromResult(1_000 * Gwei);
        c.Next = _ => throw new InvalidOperationException("a source's own bug");
        // a's and c's last good answers age out of the freshness window; b is an outlier against the last median.
        var market = await MarketWhereAsync(board, m => m.State == MarketState.Stale && m.Outliers.Contains("b"));
        Assert.Null(market.Median);
        Assert.Contains("no answer within", board.Get(31337)!.Sources["a"].LastError);
        Assert.True(board.Get(31337)!.Sources["c"].Errors > 0);

        c.Next = _ => Task.FromResult(11 * Gwei);
        market = await MarketWhereAsync(board, m => m.Median == 11 * Gwei);
        Assert.Equal(MarketState.Degraded, market.State);
        Assert.Equal(["b"], market.Outliers);
        Assert.Equal(SourceVerdict.NotFresh, market.Sources.Single(s => s.Reading.Source == "a").Verdict); // its last good answer aged out
    }
}
