using System.Collections.Concurrent;
using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// The project's contracts per chain: the ERC-2771 forwarder from <see cref="ChainOptions.Forwarder"/>, or, on a
/// devnet, the one <see cref="DevnetHostedService"/> deployed. A malformed configured address stops the node at start.
/// </summary>
public sealed class ChainContracts
{
    private readonly ConcurrentDictionary<long, EthAddress> _forwarders = new();

    public ChainContracts(IEnumerable<ChainOptions> chains)
    {
        foreach (var chain in chains.Where(c => !string.IsNullOrWhiteSpace(c.Forwarder)))
        {
            if (!EthAddress.TryParse(chain.Forwarder, out var forwarder))
                throw new InvalidOperationException($"Gpm:Chains: the forwarder of {chain.Name} ({chain.ChainId}) is not an address: '{chain.Forwarder}'.");
            _forwarders[chain.ChainId] = forwarder;
        }
    }

    public EthAddress? Forwarder(long chainId) => _forwarders.TryGetValue(chainId, out var forwarder) ? forwarder : null;

    /// <summary>Whether the chain's forwarder came from configuration (a devnet then leaves it alone).</summary>
    public bool IsConfigured(long chainId) => _forwarders.ContainsKey(chainId);

    /// <summary>The devnet's deployed forwarder, for a chain that configures none.</summary>
    public void UseDeployed(long chainId, EthAddress forwarder) => _forwarders.TryAdd(chainId, forwarder);
}
