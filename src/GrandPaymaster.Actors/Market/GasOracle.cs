using System.Globalization;
using System.Numerics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Streams;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Actors.Market;

/// <summary>One chain's oracle: its independent gas sources and the knobs of <c>hocon/market.hocon</c>.</summary>
/// <remarks><see cref="MempoolPending"/>, where set, reads how many transactions wait in a node's mempool (a SAFE_MODE input).</remarks>
public sealed record GasOracleSettings(long ChainId, IReadOnlyList<IGasSource> Sources, TimeSpan Tick, TimeSpan SourceTimeout, GasOraclePolicy Policy,
    Func<CancellationToken, Task<BigInteger>>? MempoolPending = null)
{
    /// <summary>The chain's settings from <c>gpm.market.gas</c>, its <c>chains."id"</c> block over the defaults.</summary>
    public static GasOracleSettings FromConfig(Config market, long chainId, IReadOnlyList<IGasSource> sources,
        Func<CancellationToken, Task<BigInteger>>? mempoolPending = null)
    {
        var id = chainId.ToString(CultureInfo.InvariantCulture);
        var chain = market.GetConfig($"chains.\"{id}\"");
        var c = chain is null || chain.IsEmpty ? market : chain.WithFallback(market);
        var policy = new GasOraclePolicy
        {
            Floor = BigInteger.Parse(c.GetString("floor-wei"), CultureInfo.InvariantCulture),
            Ceiling = BigInteger.Parse(c.GetString("ceiling-wei"), CultureInfo.InvariantCulture),
            FreshFor = c.GetTimeSpan("fresh-for"),
            OutlierRatio = c.GetInt("outlier-ratio"),
            VolatilityWindow = c.GetInt("volatility-window"),
            BaseBuffer = new Bps(c.GetInt("base-buffer-bps")),
            VolatilityFactor = c.GetDecimal("volatility-factor"),
            MinBuffer = new Bps(c.GetInt("min-buffer-bps")),
            MaxBuffer = new Bps(c.GetInt("max-buffer-bps")),
        };
        return new GasOracleSettings(chainId, sources, c.GetTimeSpan("tick"), c.GetTimeSpan("source-timeout"), policy, mempoolPending);
    }

}

/// <summary>This node's latest gas market of every chain (with each source's health).</summary>
public sealed class GasMarketBoard : ChainBoard<GasOracleState>;

/// <summary>
/// The gas oracle (DESIGN.md §2): one Akka.Streams graph per chain — a tick, every source asked at once with its own
/// timeout, the answers folded into <see cref="GasOracleState"/> — whose markets this actor publishes to the board. A
/// source that fails or hangs is an answer of its own (a failure), never a failure of the stream; the graphs live and
/// die with the actor (its materializer).
/// </summary>
public sealed class GasOracleActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IReadOnlyList<GasOracleSettings> _chains;
    private readonly TimeProvider _clock;

    /// <param name="pools">Where each market goes as <see cref="PoolCommands.ObserveMarket"/> (the pools' SAFE_MODE); null: nowhere.</param>
    /// <param name="replicate">Hands each state to the other nodes (<see cref="MarketReplication"/>); null: this node only.</param>
    public GasOracleActor(IReadOnlyList<GasOracleSettings> chains, GasMarketBoard board, TimeProvider clock, IActorRef? pools = null,
        Action<GasOracleState>? replicate = null)
    {
        _chains = chains;
        _clock = clock;
        Receive<GasOracleState>(state =>
        {
            var previous = board.Get(state.ChainId)?.Market;
            board.Set(state.ChainId, state);
            replicate?.Invoke(state);
            if (state.Market is not { } market) return;
            Report(previous, market);
            if (pools is not null && market.Median is { } median && state.TrailingAverage is { } average)
                pools.Tell(new PoolCommands.ObserveMarket(new ChainId(state.ChainId), median, average, market.Volatility.Value, state.MempoolPending, market.At));
        });
    }

    public static Props PropsFor(IReadOnlyList<GasOracleSettings> chains, GasMarketBoard board, TimeProvider clock, IActorRef? pools = null,
        Action<GasOracleState>? replicate = null) =>
        Props.Create(() => new GasOracleActor(chains, board, clock, pools, replicate));

    protected override void PreStart()
    {
        foreach (var chain in _chains)
            OracleStream.Run(Self, Context.Materializer(), chain.Tick, () => AskRoundAsync(chain, _clock), GasOracleState.Empty(chain.ChainId),
                (state, round) => state.Next(round.Answers, _clock.GetUtcNow(), chain.Policy) with { MempoolPending = round.Mempool });
    }

    private static async Task<(IReadOnlyList<(GasReading, TimeSpan)> Answers, BigInteger? Mempool)> AskRoundAsync(GasOracleSettings chain, TimeProvider clock)
    {
        var mempool = chain.MempoolPending is { } read ? OracleStream.AskAsync(read, chain.SourceTimeout) : null;
        var answers = await AskAllAsync(chain, clock);
        // A node without txpool_status (or one that fails) says nothing about congestion.
        return (answers, mempool is null ? null : await mempool is { Error: null } pending ? pending.Value : null);
    }

    /// <summary>Every source at once, each within the timeout; whatever goes wrong is that source's failed answer.</summary>
    public static async Task<IReadOnlyList<(GasReading, TimeSpan)>> AskAllAsync(GasOracleSettings chain, TimeProvider clock) =>
        await Task.WhenAll(chain.Sources.Select(async source =>
        {
            var (price, error, latency) = await OracleStream.AskAsync(source.ReadAsync, chain.SourceTimeout);
            var at = clock.GetUtcNow();
            return (error is null ? new GasReading(source.Name, price, at) : GasReading.Failed(source.Name, at, error), latency);
        }));

    /// <summary>Alerts on what changed: a source turned outlier (gas_source_degraded), the market's state.</summary>
    private void Report(GasMarket? previous, GasMarket market)
    {
        var before = previous?.Outliers.ToHashSet() ?? [];
        foreach (var outlier in market.Outliers.Where(o => !before.Contains(o)))
            _log.Warning("gas_source_degraded: chain {0} source {1} answered {2} wei, far from the others; excluded from the median",
                market.ChainId, outlier, market.Sources.First(s => s.Reading.Source == outlier).Reading.WeiPerGas);
        if (previous?.State != market.State && (previous is not null || market.State != MarketState.Normal))
            _log.Warning("Gas market of chain {0} is now {1} (median {2})", market.ChainId, market.State, market.Median?.ToString() ?? "none");
    }
}
