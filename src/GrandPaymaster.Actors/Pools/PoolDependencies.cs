using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Pools;

/// <summary>Timings of a pool's relay and settlement loop, and the policy its decisions follow.</summary>
public sealed record PoolSettings
{
    /// <summary>How often the pool polls the head, scans new blocks, and looks at stuck transactions and undelivered settlements.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A pending transaction not found by the block scan for this long is looked up on its own and broadcast again
    /// (a lagging node may have hidden its receipt; a node may have dropped it from its mempool).
    /// </summary>
    public TimeSpan RebroadcastAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Blocks on top of a receipt's block before it is settled (0 on a devnet); a receipt whose block leaves the chain before is watched again.</summary>
    public int ConfirmationDepth { get; init; }

    /// <summary>Blocks scanned for receipts per round (in parallel); a pool behind the head catches up round by round.</summary>
    public int MaxBlocksPerScan { get; init; } = 32;

    public TimeSpan FirstSettleRedelivery { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxSettleRedelivery { get; init; } = TimeSpan.FromSeconds(30);

    public int SnapshotEvery { get; init; } = 5_000;

    public PoolPolicy Policy { get; init; } = new();
}

/// <summary>
/// What a pool entity needs from its host: its chain, the one key source, a clock, its chain's settings and where to
/// publish its mode (Distributed Data in a node: <see cref="PoolModeReplication.Publish"/>).
/// </summary>
public sealed record PoolDependencies(
    Func<ChainId, IPoolChain?> Chain,
    IWalletKeys Keys,
    TimeProvider Clock,
    Func<ChainId, PoolSettings> SettingsFor,
    Action<Akka.Actor.ActorSystem, PoolModeView> PublishMode)
{
    /// <summary>Where each signature's duration goes (the node's alert watch); null: not measured.</summary>
    public SigningTimes? Signing { get; init; }

    /// <summary>Told after a write that confirmed transactions (the wallets paid gas): the treasury reads their balances again. Null: nobody.</summary>
    public Action<Akka.Actor.ActorSystem, ChainId>? BalanceChanged { get; init; }
}
