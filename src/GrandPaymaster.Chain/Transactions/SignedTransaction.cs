using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>
/// A signed transaction in its wire form, as passed to <c>eth_sendRawTransaction</c>,
/// with the hash the network will know it by.
/// </summary>
public sealed class SignedTransaction
{
    /// <summary>Wraps raw signed bytes.</summary>
    public SignedTransaction(byte[] raw, EcdsaSignature signature)
    {
        Raw = raw;
        Signature = signature;
        TxHash = Keccak256.Hash(raw);
    }

    /// <summary>The raw signed transaction bytes.</summary>
    public byte[] Raw { get; }

    /// <summary>The raw bytes as <c>0x</c>-prefixed hex.</summary>
    public string RawHex => Hex.Encode(Raw);

    /// <summary>The transaction hash: Keccak-256 of <see cref="Raw"/>.</summary>
    public byte[] TxHash { get; }

    /// <summary>The transaction hash as <c>0x</c>-prefixed hex.</summary>
    public string TxHashHex => Hex.Encode(TxHash);

    /// <summary>The signature over the transaction's signing hash.</summary>
    public EcdsaSignature Signature { get; }
}
