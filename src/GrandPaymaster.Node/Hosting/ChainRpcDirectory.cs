using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Hosting;

/// <summary>A configured chain and an RPC client per endpoint, first endpoint first.</summary>
public sealed record ConfiguredChain(string Name, long ChainId, IReadOnlyList<EthRpcClient> Clients);

/// <summary>The RPC clients of every configured chain, built once per node and shared.</summary>
public sealed class ChainRpcDirectory
{
    public ChainRpcDirectory(IEnumerable<ChainOptions> chains, HttpClient http)
    {
        All = chains.Select(c => new ConfiguredChain(
            c.Name,
            c.ChainId,
            c.RpcUrls.Select(url => new EthRpcClient(http, new Uri(url))).ToArray())).ToArray();
    }

    public IReadOnlyList<ConfiguredChain> All { get; }

    public ConfiguredChain? Find(GrandPaymaster.Domain.Common.ChainId chainId) => All.FirstOrDefault(c => c.ChainId == chainId.Value);
}
