using System.Security.Cryptography;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>A raw transaction taken apart: its fields, its signature and the sender that signature recovers to.</summary>
public sealed record DecodedTransaction(IUnsignedTransaction Transaction, EcdsaSignature Signature, EthAddress Sender);

/// <summary>
/// Reads raw signed transactions of the kinds this library writes: EIP-155 legacy and
/// type 2 with an empty access list. Pre-EIP-155 (v = 27/28) transactions are refused, as
/// they can be replayed on any chain.
/// </summary>
public static class TransactionDecoder
{
    /// <summary>The address that signed <paramref name="raw"/>.</summary>
    /// <exception cref="FormatException">The bytes are not a supported, well-formed signed transaction.</exception>
    public static EthAddress RecoverSender(ReadOnlySpan<byte> raw) => Decode(raw).Sender;

    /// <summary>Decodes <paramref name="raw"/> and recovers its sender.</summary>
    /// <exception cref="FormatException">The bytes are not a supported, well-formed signed transaction.</exception>
    public static DecodedTransaction Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
            throw new FormatException("Raw transaction is empty.");
        if (raw[0] == Eip1559Transaction.TypeByte)
            return DecodeEip1559(Fields(raw[1..], 12, "type-2"));
        if (raw[0] >= 0xc0)
            return DecodeLegacy(Fields(raw, 9, "legacy"));
        throw new FormatException($"Transaction type 0x{raw[0]:x2} is not supported.");
    }

    private static DecodedTransaction DecodeLegacy(IReadOnlyList<RlpItem> f)
    {
        var v = TxFields.ReadScalar(f[6], "v");
        if (v < 35)
            throw new FormatException($"Legacy transaction has v = {v}; only EIP-155 (v >= 35) is supported.");
        var tx = new LegacyTransaction(
            Nonce: TxFields.ReadScalar(f[0], "nonce"),
            GasPrice: TxFields.ReadScalar(f[1], "gasPrice"),
            GasLimit: TxFields.ReadScalar(f[2], "gasLimit"),
            To: TxFields.ReadTo(f[3]),
            Value: TxFields.ReadScalar(f[4], "value"),
            Data: TxFields.ReadBytes(f[5], "data"),
            ChainId: (v - 35) / 2);
        return WithSender(tx, (int)((v - 35) % 2), f[7], f[8]);
    }

    private static DecodedTransaction DecodeEip1559(IReadOnlyList<RlpItem> f)
    {
        if (!f[8].IsList)
            throw new FormatException("Type-2 transaction's access list is not a list.");
        if (f[8].Items.Count != 0)
            throw new FormatException("Type-2 transactions with a non-empty access list are not supported.");
        var yParity = TxFields.ReadScalar(f[9], "yParity");
        if (yParity > 1)
            throw new FormatException($"Type-2 transaction has yParity {yParity}; it must be 0 or 1.");
        var tx = new Eip1559Transaction(
            ChainId: TxFields.ReadScalar(f[0], "chainId"),
            Nonce: TxFields.ReadScalar(f[1], "nonce"),
            MaxPriorityFeePerGas: TxFields.ReadScalar(f[2], "maxPriorityFeePerGas"),
            MaxFeePerGas: TxFields.ReadScalar(f[3], "maxFeePerGas"),
            GasLimit: TxFields.ReadScalar(f[4], "gasLimit"),
            To: TxFields.ReadTo(f[5]),
            Value: TxFields.ReadScalar(f[6], "value"),
            Data: TxFields.ReadBytes(f[7], "data"));
        return WithSender(tx, (int)yParity, f[10], f[11]);
    }

    private static IReadOnlyList<RlpItem> Fields(ReadOnlySpan<byte> rlp, int count, string kind)
    {
        var item = Rlp.Decode(rlp);
        if (!item.IsList || item.Items.Count != count)
            throw new FormatException($"A signed {kind} transaction is an RLP list of {count} fields.");
        return item.Items;
    }

    private static DecodedTransaction WithSender(IUnsignedTransaction tx, int recoveryId, RlpItem r, RlpItem s)
    {
        var signature = new EcdsaSignature(TxFields.ReadScalar(r, "r"), TxFields.ReadScalar(s, "s"), recoveryId);
        // EIP-2: a high s is the malleated twin of a valid signature; nodes reject it, so do we.
        if (signature.S > EthKey.CurveOrder / 2)
            throw new FormatException("Transaction signature has a high s value (EIP-2).");
        try
        {
            return new DecodedTransaction(tx, signature, EthKey.Recover(tx.SigningHash(), signature));
        }
        catch (CryptographicException e)
        {
            throw new FormatException("Transaction signature does not recover to a public key.", e);
        }
    }
}
