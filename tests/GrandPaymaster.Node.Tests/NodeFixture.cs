using System.Net;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Tests;

/// <summary>Two anvil chains and one node on them, shared by the tests of a collection.</summary>
public class NodeFixture : IAsyncLifetime
{
    /// <summary>Runtime code <c>PUSH1 1 PUSH1 0 SSTORE STOP</c>: a call that really spends gas (a storage write).</summary>
    public const string StoreOneCode = "0x6001600055" + "00";

    /// <summary>Short, so a test can watch a quote expire; the flows execute right after quoting.</summary>
    public static readonly TimeSpan QuoteValidity = TimeSpan.FromSeconds(5);

    /// <summary>How long this fixture's quotes (and forwarded requests' deadlines) last.</summary>
    protected virtual TimeSpan Validity => QuoteValidity;

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-flow-" + Guid.NewGuid().ToString("N"));

    public HttpClient ChainHttp { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };
    public DevnetLauncher Chains { get; private set; } = null!;
    public TestNode Node { get; private set; } = null!;
    public PaymasterClient Client => Node.Client;

    public EthRpcClient Rpc(long chainId) => new(ChainHttp, Chains.Chains.Single(c => c.Spec.ChainId == chainId).RpcUrl);

    /// <summary>A fresh contract address on the chain whose code writes storage.</summary>
    public Task<string> DeployStoreOneAsync(long chainId) => DeployAsync(chainId, StoreOneCode);

    /// <summary>Puts runtime code at a fresh address (no compiler needed).</summary>
    public async Task<string> DeployAsync(long chainId, string runtimeCode)
    {
        var address = EthKey.Generate().Address.ToChecksumString();
        await Rpc(chainId).RequestAsync("anvil_setCode", [address, runtimeCode]);
        return address;
    }

    public async Task InitializeAsync()
    {
        Chains = await DevnetLauncher.StartAsync(DevnetChainSpec.DefaultsOnFreePorts(), ChainHttp);
        var funder = AnvilDevAccounts.Key(0);
        foreach (var chain in Chains.Chains)
        {
            var wallets = new Chain.Wallets.DevWallets("grand-paymaster-devnet");
            await DevnetFunder.FundAsync(new EthRpcClient(ChainHttp, chain.RpcUrl), chain.Spec.ChainId, funder,
                [(wallets.PoolWorker(chain.Spec.ChainId, 0).Address, 100 * DevnetFunder.Ether), (wallets.PoolWorker(chain.Spec.ChainId, 1).Address, 100 * DevnetFunder.Ether)]);
        }

        await TestContracts.DeployAsync(Chains, ChainHttp);
        Node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(Chains), $"--Gpm:Quotes:Validity={Validity}");
        await Node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Chains.DisposeAsync();
        ChainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>A node whose quotes last 60 s: time for a user's ten requests to be mined one after the other.</summary>
public sealed class LongQuotesFixture : NodeFixture
{
    protected override TimeSpan Validity => TimeSpan.FromSeconds(60);
}

[CollectionDefinition(Name)]
public sealed class LongQuotesCollection : ICollectionFixture<LongQuotesFixture>
{
    public const string Name = "node with long quotes";
}

[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "node";
}
