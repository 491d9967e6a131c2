using System.Globalization;

using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Chain.Wallets;

/// <summary>What a project wallet is for.</summary>
public enum WalletPurpose
{
    /// <summary>A hot wallet of a chain's gas pool that relays sponsored transactions.</summary>
    PoolWorker,

    /// <summary>The vault wallet that tops pools up.</summary>
    Vault,

    /// <summary>The wallet that deploys the project's contracts on a devnet (its nonces fix their addresses).</summary>
    Deployer,
}

/// <summary>
/// Deterministic keys for the project's own wallets on local devnets, derived from a seed phrase so
/// that every restart (and every test) finds the same addresses. Not for real funds: anyone with the
/// seed has the keys.
/// </summary>
public sealed class DevWallets(string seed)
{
    public EthKey PoolWorker(long chainId, int index) => Derive(WalletPurpose.PoolWorker, chainId, index);

    public EthKey Vault(long chainId) => Derive(WalletPurpose.Vault, chainId, 0);

    public EthKey Deployer(long chainId) => Derive(WalletPurpose.Deployer, chainId, 0);

    public EthKey Derive(WalletPurpose purpose, long chainId, int index)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"grand-paymaster/{seed}/{purpose}/{chainId}/{index}");
        // Keccak output is below the curve order except with negligible probability; the counter
        // covers that case instead of failing.
        for (var counter = 0; ; counter++)
        {
            var material = Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(counter == 0 ? label : $"{label}#{counter}"));
            var scalar = new System.Numerics.BigInteger(material, isUnsigned: true, isBigEndian: true);
            if (scalar > 0 && scalar < EthKey.CurveOrder) return EthKey.FromBytes(material);
        }
    }
}
