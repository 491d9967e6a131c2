using System.Collections.Concurrent;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Vault;

/// <summary>
/// The vault's keys, one wallet per chain. It lives here and only here: the pools' and agents' code (<c>Actors/Pools</c>) has no
/// reference to it, and a node builds it only when it runs the vault (role <c>vault</c>, see <see cref="VaultHosting.AddVault"/>);
/// it is never put into the service container. Threshold signing replaces it later.
/// </summary>
public interface IVaultKeys
{
    /// <summary>The vault's key on a chain, or null when this vault holds none there.</summary>
    EthKey? KeyOf(ChainId chainId);
}

/// <summary>Devnet vault keys derived from the node's dev seed (<see cref="DevWallets.Vault"/>); not for real funds.</summary>
public sealed class DevVaultKeys(string seed, IEnumerable<long> chains) : IVaultKeys
{
    private readonly DevWallets _wallets = new(seed);
    private readonly HashSet<long> _chains = chains.ToHashSet();
    private readonly ConcurrentDictionary<long, EthKey> _keys = new();

    public EthKey? KeyOf(ChainId chainId) => _chains.Contains(chainId.Value) ? _keys.GetOrAdd(chainId.Value, id => _wallets.Vault(id)) : null;
}
