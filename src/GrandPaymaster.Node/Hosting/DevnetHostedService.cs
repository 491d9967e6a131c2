using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// With <c>Gpm:Devnet:Enabled</c>, starts one anvil per configured chain (on the port of its first
/// RPC URL), funds the project's pool and vault wallets, deploys the project's contracts at fixed addresses
/// (<see cref="DevnetContracts"/>), and stops the chains with the host.
/// Registered before Akka so the chains answer before the node reports ready.
/// </summary>
public sealed class DevnetHostedService(IOptions<GpmOptions> options, IHttpClientFactory httpFactory, ChainContracts contracts, ILogger<DevnetHostedService> log)
    : IHostedService, IAsyncDisposable
{
    public static readonly BigInteger PoolWorkerFunding = 100 * DevnetFunder.Ether;
    public static readonly BigInteger VaultFunding = 1_000 * DevnetFunder.Ether;

    private DevnetLauncher? _launcher;

    public async Task StartAsync(CancellationToken ct)
    {
        var gpm = options.Value;
        var backstop = gpm.Devnet.BackstopBlockSeconds > 0 ? gpm.Devnet.BackstopBlockSeconds : (int?)null;
        var specs = gpm.EffectiveChains.Select(chain => ToSpec(chain) with { BackstopBlockSeconds = backstop }).ToArray();
        var http = httpFactory.CreateClient(nameof(DevnetHostedService));
        _launcher = await DevnetLauncher.StartAsync(specs, http, ct);

        var wallets = new DevWallets(gpm.Wallets.DevSeed);
        foreach (var chain in _launcher.Chains)
        {
            var rpc = new EthRpcClient(http, chain.RpcUrl);
            var targets = Enumerable.Range(0, gpm.Wallets.WorkersPerChain)
                .Select(i => (wallets.PoolWorker(chain.Spec.ChainId, i).Address, PoolWorkerFunding))
                .Append((wallets.Vault(chain.Spec.ChainId).Address, VaultFunding))
                .ToArray();
            var sent = await DevnetFunder.FundAsync(rpc, chain.Spec.ChainId, AnvilDevAccounts.Key(0), targets, ct);
            var deployed = await DevnetContracts.DeployAsync(rpc, chain.Spec.ChainId, wallets.Deployer(chain.Spec.ChainId), AnvilDevAccounts.Key(0), ct);
            contracts.UseDeployed(chain.Spec.ChainId, deployed.Forwarder);
            log.LogInformation("Devnet {Name} (chain {ChainId}) at {Url}: {Funded} wallet(s) funded; forwarder {Forwarder}, SenderRecorder {Recorder}",
                chain.Spec.Name, chain.Spec.ChainId, chain.RpcUrl, sent.Count, deployed.Forwarder, deployed.SenderRecorder);
        }
    }

    public async Task StopAsync(CancellationToken ct) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_launcher is null) return;
        await _launcher.DisposeAsync();
        _launcher = null;
    }

    private static DevnetChainSpec ToSpec(ChainOptions chain)
    {
        var url = new Uri(chain.RpcUrls.FirstOrDefault()
                          ?? throw new InvalidOperationException($"Chain {chain.Name} has no RPC URL to start a devnet on."));
        if (!url.IsLoopback)
            throw new InvalidOperationException($"Devnet chains run on loopback only; {chain.Name} points at {url}.");
        return new DevnetChainSpec(chain.Name, chain.ChainId, url.Port);
    }
}
