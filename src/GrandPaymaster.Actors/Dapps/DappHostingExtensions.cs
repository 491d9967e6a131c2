using Akka.Cluster.Hosting;
using Akka.Hosting;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>Registry key for the dApp shard region.</summary>
public sealed class DappRegion;

/// <summary>Wires the <see cref="DappActor"/> shard region into an actor system.</summary>
public static class DappHostingExtensions
{
    public const string TypeName = "dapp";

    /// <summary>
    /// dApps are remembered entities that passivate themselves when idle with no open hold: after a crash every dApp
    /// holding a deducted fee is started again by sharding and relays it without waiting for a caller. Remember-entities
    /// lives in sharding's own journal, out of the audit log.
    /// </summary>
    public static AkkaConfigurationBuilder AddDapps(this AkkaConfigurationBuilder builder, TimeProvider clock, DappSettings settings, IPoolModes modes, Domain.Compliance.IDenylist denylist,
        string role = "core") =>
        builder.WithShardRegion<DappRegion>(
            TypeName,
            (_, registry, _) => entityId => DappActor.PropsFor(DappId.Parse(entityId), registry.Get<ChainPoolRegion>(), clock, settings, modes, denylist),
            new DappMessageExtractor(),
            PersistenceHocon.RememberedEntities(role));

    /// <summary>
    /// This node's directory of dApps (a replica) and, on <paramref name="role"/> nodes, the singleton that folds the journal's
    /// <c>admin</c>-tagged events into it (see <see cref="DappDirectoryFeed"/>).
    /// </summary>
    public static AkkaConfigurationBuilder AddDappDirectory(this AkkaConfigurationBuilder builder, DappDirectory directory, string role = "core") =>
        builder
            .WithActors((system, _) => system.ActorOf(DappDirectoryReplica.PropsFor(directory), "dapp-directory-replica"))
            .WithSingleton<DappDirectoryFeed>("dapp-directory-feed", (_, _, _) => DappDirectoryFeed.PropsFor(),
                new ClusterSingletonOptions { Role = role }, createProxyToo: false);
}
