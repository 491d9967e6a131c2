using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>Timings of a pool's relay and settlement loop.</summary>
public sealed record PoolSettings
{
    /// <summary>How often the pool looks at its in-flight transactions and undelivered settlements.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan FirstReceiptCheck { get; init; } = TimeSpan.FromMilliseconds(150);
    public TimeSpan MaxReceiptBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A transaction without a receipt this long is broadcast again (it may have been dropped).</summary>
    public TimeSpan RebroadcastAfter { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan FirstSettleRedelivery { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxSettleRedelivery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tip offered to the block producer, capped by the quote's max fee per gas.</summary>
    public System.Numerics.BigInteger PriorityFeePerGas { get; init; } = 1_000_000_000;

    public int SnapshotEvery { get; init; } = 5_000;
}

/// <summary>What a pool entity needs from its host: the chain's RPC client and the worker wallets' keys.</summary>
public sealed record PoolDependencies(
    Func<ChainId, EthRpcClient?> Rpc,
    Func<ChainId, IReadOnlyList<EthKey>> WorkerKeys,
    TimeProvider Clock,
    PoolSettings Settings);
