using System.Numerics;
using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>A transaction ready to be signed for one chain.</summary>
public interface IUnsignedTransaction
{
    /// <summary>The chain the signature is bound to (replay protection).</summary>
    BigInteger ChainId { get; }

    /// <summary>The 32-byte hash the sender signs.</summary>
    byte[] SigningHash();

    /// <summary>Signs with <paramref name="key"/> and returns the raw bytes to broadcast.</summary>
    SignedTransaction Sign(EthKey key);
}
