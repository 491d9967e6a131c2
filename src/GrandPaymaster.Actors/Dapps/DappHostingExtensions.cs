using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>Registry key for the dApp shard region.</summary>
public sealed class DappRegion;

/// <summary>Wires the <see cref="DappActor"/> shard region into an actor system.</summary>
public static class DappHostingExtensions
{
    public const string TypeName = "dapp";

    /// <summary>dApps passivate when idle (the default idle timeout): most are quiet most of the time.</summary>
    public static AkkaConfigurationBuilder AddDapps(this AkkaConfigurationBuilder builder, TimeProvider clock, DappSettings settings, string role = "core") =>
        builder.WithShardRegion<DappRegion>(
            TypeName,
            (_, registry, _) => entityId => DappActor.PropsFor(DappId.Parse(entityId), registry.Get<ChainPoolRegion>(), clock, settings),
            new DappMessageExtractor(),
            new ShardOptions { Role = role, StateStoreMode = StateStoreMode.DData });
}
