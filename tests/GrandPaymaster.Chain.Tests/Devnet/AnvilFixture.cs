using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Chain.Tests.Devnet;

/// <summary>Two real anvil chains on free loopback ports, shared by the tests of one collection.</summary>
public sealed class AnvilFixture : IAsyncLifetime
{
    public HttpClient Http { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };
    public DevnetLauncher Launcher { get; private set; } = null!;

    public DevnetChain ChainA => Launcher.Chains[0];
    public DevnetChain ChainB => Launcher.Chains[1];

    public EthRpcClient Rpc(DevnetChain chain, TimeSpan? timeout = null) => new(Http, chain.RpcUrl, timeout);

    /// <summary>Puts runtime code at a fresh address (no compiler needed).</summary>
    public async Task<GrandPaymaster.Chain.Crypto.EthAddress> SetCodeAsync(DevnetChain chain, string runtimeCode)
    {
        var address = GrandPaymaster.Chain.Crypto.EthKey.Generate().Address;
        await Rpc(chain).RequestAsync("anvil_setCode", [address.ToChecksumString(), runtimeCode]);
        return address;
    }

    public async Task InitializeAsync() =>
        Launcher = await DevnetLauncher.StartAsync(DevnetChainSpec.DefaultsOnFreePorts(), Http);

    public async Task DisposeAsync()
    {
        await Launcher.DisposeAsync();
        Http.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class AnvilCollection : ICollectionFixture<AnvilFixture>
{
    public const string Name = "anvil";
}
