using System.Numerics;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Treasury;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Treasury;
using GrandPaymaster.Node.Hosting;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;

namespace GrandPaymaster.Node.Treasury;

/// <summary><c>Gpm:Treasury</c>: HOCON laid over <c>hocon/treasury.hocon</c>.</summary>
public sealed class TreasuryOptions
{
    public string Hocon { get; set; } = "";
}

/// <summary>The latest treasury view the Orchestrator published (every node; the metrics read it at each scrape).</summary>
public sealed class TreasuryBoard
{
    private volatile TreasuryView? _latest;

    public TreasuryView? Latest => _latest;

    public void Set(TreasuryView view) => _latest = view;
}

/// <summary>The node's pool wallets per configured chain, their balances read through the chain's failover endpoints.</summary>
public sealed class NodeTreasuryChains(ChainRpcDirectory chains, IWalletKeys keys) : ITreasuryChains
{
    public IReadOnlyList<ChainId> Chains => chains.All.Select(c => new ChainId(c.ChainId)).ToArray();

    public IReadOnlyList<Address> WalletsOf(ChainId chain) => keys.WorkersOf(chain);

    public Task<BigInteger> BalanceAsync(ChainId chain, Address wallet, CancellationToken ct) =>
        chains.Find(chain) is { } configured
            ? configured.Endpoints.CallAsync((client, token) => client.GetBalanceAsync(wallet.Value, ct: token), ct)
            : Task.FromException<BigInteger>(new InvalidOperationException($"chain {chain} is not configured"));
}

/// <summary>Wires the treasury's Orchestrator into the node (one call each from <see cref="NodeApp"/>).</summary>
public static class TreasurySetup
{
    /// <summary>
    /// The Vault singleton's registry key (the vault helper's <c>GrandPaymaster.Actors.Vault.VaultSingleton</c>), found by name so
    /// this branch builds without it; until it is registered the Orchestrator queues needs and starts none (<c>vaultConnected</c>
    /// false in the view).
    /// </summary>
    private static readonly Type? VaultKey = Type.GetType("GrandPaymaster.Actors.Vault.VaultSingleton, GrandPaymaster.Actors");

    public static void AddTreasury(this WebApplicationBuilder builder)
    {
        var settings = TreasuryHocon.Load(builder.Configuration.GetSection("Gpm:Treasury").Get<TreasuryOptions>()?.Hocon ?? "");
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<TreasuryBoard>();
        builder.Services.AddSingleton<ITreasuryChains, NodeTreasuryChains>();
    }

    /// <summary>The Orchestrator singleton (role <c>core</c>, rebalance mailbox), its proxy, and this node's listener of its views.</summary>
    public static AkkaConfigurationBuilder AddTreasury(this AkkaConfigurationBuilder akka, IServiceProvider services)
    {
        var settings = services.GetRequiredService<TreasurySettings>();
        var pager = services.GetRequiredService<IPager>();
        var clock = services.GetRequiredService<TimeProvider>();
        var chains = services.GetRequiredService<ITreasuryChains>();
        var board = services.GetRequiredService<TreasuryBoard>();
        return akka.AddOrchestrator(registry => new OrchestratorDependencies(settings, pager, clock, new Random())
        {
            Vault = _ => VaultKey is not null && registry.TryGet(VaultKey, out var vault) ? vault : null,
            Alerts = _ => registry.TryGet<AlertsSingleton>(out var alerts) ? alerts : null,
            Chains = chains,
            Publish = OrchestratorHosting.PublishView,
            SubscribeHints = OrchestratorHosting.SubscribeHints,
        }, board.Set);
    }
}
