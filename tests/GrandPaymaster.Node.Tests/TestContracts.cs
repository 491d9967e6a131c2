using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The project's contracts on a test chain, deployed as the devnet does (same deployer, same addresses), so every test
/// node is configured with its chain's forwarder (<see cref="TestNode.Arguments"/>).
/// </summary>
public static class TestContracts
{
    private static readonly DevWallets Wallets = new("grand-paymaster-devnet");

    public static DevnetContractAddresses For(long chainId) => DevnetContracts.AddressesFor(Wallets.Deployer(chainId).Address);

    public static Task<DevnetContractAddresses> DeployAsync(EthRpcClient rpc, long chainId) =>
        DevnetContracts.DeployAsync(rpc, chainId, Wallets.Deployer(chainId), AnvilDevAccounts.Key(0));

    public static async Task DeployAsync(DevnetLauncher chains, HttpClient http)
    {
        foreach (var chain in chains.Chains) await DeployAsync(new EthRpcClient(http, chain.RpcUrl), chain.Spec.ChainId);
    }
}
