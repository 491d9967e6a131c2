using Akka.Cluster.Hosting;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>Registry key for the pool shard region.</summary>
public sealed class ChainPoolRegion;

/// <summary>Wires the <see cref="ChainPoolActor"/> shard region into an actor system.</summary>
public static class ChainPoolHostingExtensions
{
    public const string TypeName = "pool";

    /// <summary>
    /// Pools are remembered entities: a pool must come back after a rebalance or restart on its own,
    /// because it watches in-flight transactions nobody else asks about. Remember-entities lives in a
    /// journal of its own (see persistence HOCON) to keep sharding's rows out of the audit log.
    /// </summary>
    public static AkkaConfigurationBuilder AddChainPools(this AkkaConfigurationBuilder builder, PoolDependencies deps, string role = "core") =>
        builder.WithShardRegion<ChainPoolRegion>(
            TypeName,
            (_, registry, _) => entityId => ChainPoolActor.PropsFor(
                new ChainId(long.Parse(entityId, System.Globalization.CultureInfo.InvariantCulture)), deps, registry.Get<DappRegion>()),
            new PoolMessageExtractor(),
            PersistenceHocon.RememberedEntities(role));
}
