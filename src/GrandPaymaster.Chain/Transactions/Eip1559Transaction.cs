using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>
/// An EIP-1559 (type 2) transaction with an empty access list.
/// <paramref name="To"/> is null for contract creation.
/// </summary>
public sealed record Eip1559Transaction(
    BigInteger ChainId,
    BigInteger Nonce,
    BigInteger MaxPriorityFeePerGas,
    BigInteger MaxFeePerGas,
    BigInteger GasLimit,
    EthAddress? To,
    BigInteger Value,
    byte[] Data) : IUnsignedTransaction
{
    /// <summary>The EIP-2718 type byte that prefixes the payload.</summary>
    public const byte TypeByte = 0x02;

    /// <summary>Keccak-256 of <c>0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList])</c>.</summary>
    public byte[] SigningHash() => Keccak256.Hash([TypeByte, .. Rlp.Encode(RlpItem.OfList(Body()))]);

    /// <summary>Signs, appending <c>yParity, r, s</c> to the signed fields.</summary>
    public SignedTransaction Sign(EthKey key)
    {
        var signature = key.Sign(SigningHash());
        var payload = Rlp.Encode(RlpItem.OfList(
            [.. Body(), TxFields.Scalar(signature.RecoveryId), TxFields.Scalar(signature.R), TxFields.Scalar(signature.S)]));
        return new SignedTransaction([TypeByte, .. payload], signature);
    }

    /// <summary>Field-wise equality, comparing <see cref="Data"/> by content.</summary>
    public bool Equals(Eip1559Transaction? other) =>
        other is not null
        && ChainId == other.ChainId && Nonce == other.Nonce
        && MaxPriorityFeePerGas == other.MaxPriorityFeePerGas && MaxFeePerGas == other.MaxFeePerGas
        && GasLimit == other.GasLimit && To == other.To && Value == other.Value
        && Data.AsSpan().SequenceEqual(other.Data);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(ChainId, Nonce, MaxPriorityFeePerGas, MaxFeePerGas, GasLimit, To, Value, Data.Length);

    private RlpItem[] Body() =>
    [
        TxFields.Scalar(ChainId), TxFields.Scalar(Nonce),
        TxFields.Scalar(MaxPriorityFeePerGas), TxFields.Scalar(MaxFeePerGas), TxFields.Scalar(GasLimit),
        TxFields.To(To), TxFields.Scalar(Value), RlpItem.OfBytes(Data),
        RlpItem.OfList(), // access list: always empty here
    ];
}
