using Akka.Cluster.Sharding;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// Routes <see cref="IWithChainId"/> messages to <c>pool-{chainId}</c> entities. A handful of chains
/// never needs many shards; 10 still spreads them over a few nodes. The shard count is part of the
/// cluster's contract: change it only with a full cluster restart.
/// </summary>
public sealed class PoolMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    public const int ShardCount = 10;

    // StartEntity (remember-entities restarts) is unwrapped by the base class before this is asked.
    public override string? EntityId(object message) => (message as IWithChainId)?.ChainId.ToString();
}
