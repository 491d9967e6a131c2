using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// The one source of worker keys. A pool signs only for wallets in its journal, with the key this source holds for
/// them; a journaled wallet without a key here is never picked.
/// </summary>
public interface IWalletKeys
{
    EthKey? KeyFor(ChainId chainId, Address wallet);

    /// <summary>The wallets this node can sign for on a chain (registered with the pool at start).</summary>
    IReadOnlyList<Address> WorkersOf(ChainId chainId);
}

/// <summary>Devnet keys derived from a seed (<see cref="DevWallets"/>); a real key store replaces it with the vault issue.</summary>
public sealed class DevWalletKeys(string seed, int workersPerChain) : IWalletKeys
{
    private readonly DevWallets _wallets = new(seed);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, IReadOnlyDictionary<Address, EthKey>> _byChain = new();

    public EthKey? KeyFor(ChainId chainId, Address wallet) => Keys(chainId).GetValueOrDefault(wallet);

    public IReadOnlyList<Address> WorkersOf(ChainId chainId) => Keys(chainId).Keys.ToArray();

    private IReadOnlyDictionary<Address, EthKey> Keys(ChainId chainId) =>
        _byChain.GetOrAdd(chainId.Value, id => Enumerable.Range(0, workersPerChain).Select(i => _wallets.PoolWorker(id, i))
            .ToDictionary(k => k.Address.ToDomain()));
}
