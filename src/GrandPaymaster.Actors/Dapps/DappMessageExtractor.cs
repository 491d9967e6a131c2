using Akka.Cluster.Sharding;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>
/// Routes <see cref="IWithDappId"/> messages to <c>dapp-{id}</c> entities. 100 shards: about ten
/// per node at the largest cluster we plan for, fine-grained enough to rebalance. Part of the
/// cluster's contract: change it only with a full cluster restart.
/// </summary>
public sealed class DappMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    public const int ShardCount = 100;

    public override string? EntityId(object message) => (message as IWithDappId)?.DappId.Value;
}
