using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// A configured chain: its endpoints (failover, circuit breakers, chain id checks) and the pool's view of it. Endpoints
/// are named <c>{chain}#{index}</c> everywhere: their URLs can carry provider keys and never leave the node.
/// </summary>
public sealed record ConfiguredChain(string Name, long ChainId, ChainEndpoints Endpoints, RpcPoolChain PoolChain, int ConfirmationDepth)
{
    /// <summary>The vault's view of the chain: its own endpoints when configured (<see cref="ChainOptions.VaultRpcUrls"/>), else the pools'.</summary>
    public required RpcPoolChain VaultChain { get; init; }

    /// <summary>Call data a quote may carry on this chain (bytes); a quote's data is held in memory until it expires.</summary>
    public int MaxDataBytes { get; init; } = ChainOptions.DefaultMaxDataBytes;

    /// <summary>The latest block's gas limit, cached: the most gas a quote may ask for on this chain.</summary>
    public required BlockGasLimit BlockGasLimit { get; init; }
}

/// <summary>The RPC endpoints of every configured chain, built once per node and shared by the edge and the pools.</summary>
public sealed class ChainRpcDirectory
{
    public ChainRpcDirectory(IEnumerable<ChainOptions> chains, HttpClient http, TimeProvider time)
    {
        All = chains.Select(c =>
        {
            var clients = c.RpcUrls.Select((url, i) => new EthRpcClient(http, new Uri(url), label: $"{c.Name}#{i}")).ToArray();
            var endpoints = new ChainEndpoints(c.ChainId, clients, new ChainEndpointSettings(), time);
            var pools = new RpcPoolChain(endpoints);
            var vaultClients = c.VaultRpcUrls.Select((url, i) => new EthRpcClient(http, new Uri(url), label: $"{c.Name}#vault{i}")).ToArray();
            return new ConfiguredChain(c.Name, c.ChainId, endpoints, pools, c.ConfirmationDepth)
            {
                VaultChain = vaultClients.Length == 0 ? pools : new RpcPoolChain(new ChainEndpoints(c.ChainId, vaultClients, new ChainEndpointSettings(), time)),
                MaxDataBytes = c.MaxDataBytes,
                BlockGasLimit = new BlockGasLimit(endpoints, time),
            };
        }).ToArray();
    }

    public IReadOnlyList<ConfiguredChain> All { get; }

    public ConfiguredChain? Find(GrandPaymaster.Domain.Common.ChainId chainId) => All.FirstOrDefault(c => c.ChainId == chainId.Value);
}
