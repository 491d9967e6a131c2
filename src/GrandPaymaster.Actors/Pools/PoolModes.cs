using System.Collections.Concurrent;
using Akka.Actor;
using Akka.DistributedData;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// This node's copy of every pool's mode, kept current from Distributed Data: the edge and the dApp entities read it
/// without a round trip, so a paused chain is refused in microseconds.
/// </summary>
public sealed class PoolModeDirectory : IPoolModes
{
    private readonly ConcurrentDictionary<long, PoolModeView> _modes = new();

    public PoolModeView? Get(ChainId chainId) => _modes.GetValueOrDefault(chainId.Value);

    public IReadOnlyList<PoolModeView> All => _modes.Values.OrderBy(m => m.ChainId.Value).ToArray();

    /// <summary>Takes a mode unless this node already holds a later one of that chain (replication and a local answer may cross).</summary>
    public void Set(PoolModeView view) =>
        _modes.AddOrUpdate(view.ChainId.Value, view, (_, known) => known.Since > view.Since ? known : view);
}

/// <summary>Writes and follows the replicated map of pool modes (one LWW entry per chain, written only by that chain's pool).</summary>
public static class PoolModeReplication
{
    public static readonly LWWDictionaryKey<string, PoolModeView> Key = new("pool-modes");

    public static void Publish(ActorSystem system, PoolModeView view)
    {
        var self = Akka.Cluster.Cluster.Get(system).SelfUniqueAddress;
        // Fire and forget: the replicator's acknowledgement goes nowhere instead of to the pool's dead letters.
        DistributedData.Get(system).Replicator.Tell(Dsl.Update(Key, LWWDictionary<string, PoolModeView>.Empty, WriteLocal.Instance,
            map => map.SetItem(self, view.ChainId.ToString(), view)), ActorRefs.Nobody);
    }

    /// <summary>Starts the subscriber that keeps <paramref name="directory"/> current on this node.</summary>
    public static AkkaConfigurationBuilder AddPoolModes(this AkkaConfigurationBuilder builder, PoolModeDirectory directory) =>
        builder.WithActors((system, _) => system.ActorOf(Props.Create(() => new PoolModeSubscriber(directory)), "pool-modes"));

    /// <summary>Copies every change of the replicated map into the node-local directory.</summary>
    private sealed class PoolModeSubscriber : ReceiveActor
    {
        public PoolModeSubscriber(PoolModeDirectory directory)
        {
            Receive<Changed>(changed =>
            {
                foreach (var view in changed.Get(Key).Values) directory.Set(view);
            });
        }

        protected override void PreStart() => DistributedData.Get(Context.System).Replicator.Tell(Dsl.Subscribe(Key, Self));
    }
}
