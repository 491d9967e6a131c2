using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Transactions;

/// <summary>RLP conversions shared by the transaction kinds.</summary>
internal static class TxFields
{
    // Every numeric transaction field is at most a uint256.
    private const int MaxScalarBytes = 32;

    public static RlpItem To(EthAddress? to) =>
        to is { } address ? RlpItem.OfBytes(address.ToArray()) : RlpItem.OfBytes([]);

    public static RlpItem Scalar(BigInteger value)
    {
        if (value.Sign < 0 || value.GetByteCount(isUnsigned: true) > MaxScalarBytes)
            throw new ArgumentOutOfRangeException(nameof(value), value, "Transaction fields must lie in 0..2^256-1.");
        return RlpItem.OfScalar(value);
    }

    public static BigInteger ReadScalar(RlpItem item, string field)
    {
        if (item.IsList || item.Bytes.Length > MaxScalarBytes)
            throw new FormatException($"Transaction field '{field}' is not a 256-bit integer.");
        return item.ToScalar();
    }

    public static EthAddress? ReadTo(RlpItem item)
    {
        if (item.IsList || item.Bytes.Length is not (0 or EthAddress.Size))
            throw new FormatException("Transaction field 'to' is neither empty nor a 20-byte address.");
        return item.Bytes.IsEmpty ? null : new EthAddress(item.Bytes);
    }

    public static byte[] ReadBytes(RlpItem item, string field) =>
        item.IsList ? throw new FormatException($"Transaction field '{field}' is a list, not bytes.") : item.Bytes.ToArray();
}
