using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>
/// A pre-typed ("legacy") transaction signed with EIP-155 replay protection.
/// <paramref name="To"/> is null for contract creation.
/// </summary>
public sealed record LegacyTransaction(
    BigInteger Nonce,
    BigInteger GasPrice,
    BigInteger GasLimit,
    EthAddress? To,
    BigInteger Value,
    byte[] Data,
    BigInteger ChainId) : IUnsignedTransaction
{
    /// <summary>Keccak-256 of <c>rlp([nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0])</c>.</summary>
    public byte[] SigningHash() =>
        Keccak256.Hash(Rlp.Encode(RlpItem.OfList([.. Body(), TxFields.Scalar(ChainId), TxFields.Scalar(0), TxFields.Scalar(0)])));

    /// <summary>Signs with <c>v = recoveryId + chainId * 2 + 35</c>.</summary>
    public SignedTransaction Sign(EthKey key)
    {
        var signature = key.Sign(SigningHash());
        var v = signature.RecoveryId + ChainId * 2 + 35;
        var raw = Rlp.Encode(RlpItem.OfList(
            [.. Body(), TxFields.Scalar(v), TxFields.Scalar(signature.R), TxFields.Scalar(signature.S)]));
        return new SignedTransaction(raw, signature);
    }

    /// <summary>Field-wise equality, comparing <see cref="Data"/> by content.</summary>
    public bool Equals(LegacyTransaction? other) =>
        other is not null
        && Nonce == other.Nonce && GasPrice == other.GasPrice && GasLimit == other.GasLimit
        && To == other.To && Value == other.Value && ChainId == other.ChainId
        && Data.AsSpan().SequenceEqual(other.Data);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Nonce, GasPrice, GasLimit, To, Value, ChainId, Data.Length);

    private RlpItem[] Body() =>
    [
        TxFields.Scalar(Nonce), TxFields.Scalar(GasPrice), TxFields.Scalar(GasLimit),
        TxFields.To(To), TxFields.Scalar(Value), RlpItem.OfBytes(Data),
    ];
}
