using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>One anvil chain (31337, automine) shared by a test class, with a client that talks to it directly.</summary>
public sealed class AnvilChain : IAsyncLifetime
{
    public const long ChainId = 31337;

    private DevnetLauncher _launcher = null!;

    /// <summary>Infinite timeout: every <see cref="EthRpcClient"/> brings its own.</summary>
    public HttpClient Http { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };

    public Uri RpcUrl => _launcher.Chains[0].RpcUrl;

    /// <summary>A client that bypasses any proxy, to see what the chain really did.</summary>
    public EthRpcClient Direct => new(Http, RpcUrl);

    public async Task InitializeAsync() =>
        _launcher = await DevnetLauncher.StartAsync([new DevnetChainSpec("faults", ChainId, DevnetChainSpec.FreeLoopbackPort())], Http);

    public async Task DisposeAsync()
    {
        await _launcher.DisposeAsync();
        Http.Dispose();
    }
}
