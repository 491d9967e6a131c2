using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// One anvil chain (devnet-a, 31337) with funded pool wallets and a fresh data directory, for tests that
/// start, kill and restart their own nodes against it.
/// </summary>
public abstract class SingleChain : IAsyncLifetime
{
    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };

    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "gpm-single-chain-" + Guid.NewGuid().ToString("N"));
    protected DevnetLauncher Chains { get; private set; } = null!;
    protected EthRpcClient Rpc => new(_chainHttp, Chains.Chains[0].RpcUrl);

    public async Task InitializeAsync()
    {
        Chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", 31337, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        var wallets = new DevWallets("grand-paymaster-devnet");
        await DevnetFunder.FundAsync(Rpc, 31337, AnvilDevAccounts.Key(0),
            [(wallets.PoolWorker(31337, 0).Address, 10 * DevnetFunder.Ether), (wallets.PoolWorker(31337, 1).Address, 10 * DevnetFunder.Ether)]);
        await TestContracts.DeployAsync(Rpc, 31337);
    }

    public async Task DisposeAsync()
    {
        await Chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
    }
}
