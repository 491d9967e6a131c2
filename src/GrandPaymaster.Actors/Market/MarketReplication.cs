using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.DistributedData;
using Akka.Hosting;
using GrandPaymaster.Domain.Market;

namespace GrandPaymaster.Actors.Market;

/// <summary>
/// The quote cache (DESIGN.md §3): every market the oracles (cluster singletons) produce is replicated through
/// Distributed Data — one LWW entry per chain, written only by that chain's oracle — and copied into each node's boards,
/// so every edge prices quotes from a local replica, with no call to another actor or to RPC.
/// </summary>
public static class MarketReplication
{
    public static readonly LWWDictionaryKey<string, GasOracleState> GasKey = new("gas-markets");
    public static readonly LWWDictionaryKey<string, RateView> RatesKey = new("rates");

    /// <summary>Marks the oracle singletons (Akka.Hosting registry keys).</summary>
    public sealed class GasOracleSingleton;

    public sealed class RateOracleSingleton;

    public static void Publish(ActorSystem system, GasOracleState state) => Publish(system, GasKey, state.ChainId, state);

    public static void Publish(ActorSystem system, RateView view) => Publish(system, RatesKey, view.ChainId, view);

    private static void Publish<T>(ActorSystem system, LWWDictionaryKey<string, T> key, long chainId, T value)
    {
        var self = Akka.Cluster.Cluster.Get(system).SelfUniqueAddress;
        // Fire and forget: the replicator's acknowledgement goes nowhere instead of to the oracle's dead letters.
        DistributedData.Get(system).Replicator.Tell(Dsl.Update(key, LWWDictionary<string, T>.Empty, WriteLocal.Instance,
            map => map.SetItem(self, chainId.ToString(System.Globalization.CultureInfo.InvariantCulture), value)), ActorRefs.Nobody);
    }

    /// <summary>
    /// Starts this node's copy of the market (a subscriber filling <paramref name="gas"/> and <paramref name="rates"/>) and,
    /// on nodes with the <c>core</c> role, the gas and rate oracles as cluster singletons (the gas oracle tells the pools
    /// each market: add this after the pools).
    /// </summary>
    public static AkkaConfigurationBuilder AddMarket(this AkkaConfigurationBuilder builder, IReadOnlyList<GasOracleSettings> gasChains,
        IReadOnlyList<RateOracleSettings> rateChains, GasMarketBoard gas, RateBoard rates, TimeProvider clock, string role = "core") =>
        builder
            .WithActors((system, _) => system.ActorOf(Props.Create(() => new MarketSubscriber(gas, rates)), "market-replica"))
            .WithSingleton<GasOracleSingleton>("gas-oracle",
                (system, registry, _) => GasOracleActor.PropsFor(gasChains, gas, clock, registry.Get<Pools.ChainPoolRegion>(), state => Publish(system, state)),
                new ClusterSingletonOptions { Role = role }, createProxyToo: false)
            .WithSingleton<RateOracleSingleton>("rate-oracle",
                (system, _, _) => RateOracleActor.PropsFor(rateChains, rates, clock, view => Publish(system, view)),
                new ClusterSingletonOptions { Role = role }, createProxyToo: false);

    /// <summary>Copies every replicated market into this node's boards, unless the board already holds a later one.</summary>
    private sealed class MarketSubscriber : ReceiveActor
    {
        public MarketSubscriber(GasMarketBoard gas, RateBoard rates)
        {
            Receive<Changed>(changed =>
            {
                if (changed.Key.Equals(GasKey))
                    foreach (var state in changed.Get(GasKey).Values)
                    {
                        if (gas.Get(state.ChainId)?.Market?.At >= state.Market?.At) continue;
                        gas.Set(state.ChainId, state);
                    }
                else if (changed.Key.Equals(RatesKey))
                    foreach (var view in changed.Get(RatesKey).Values)
                    {
                        if (rates.Get(view.ChainId)?.At >= view.At) continue;
                        rates.Set(view.ChainId, view);
                    }
            });
        }

        protected override void PreStart()
        {
            var replicator = DistributedData.Get(Context.System).Replicator;
            replicator.Tell(Dsl.Subscribe(GasKey, Self));
            replicator.Tell(Dsl.Subscribe(RatesKey, Self));
        }
    }
}
