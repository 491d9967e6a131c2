using System.Numerics;

namespace GrandPaymaster.Chain.Encoding;

/// <summary>
/// One node of an RLP tree: either a byte string or a list of items. Scalars are byte strings
/// holding a big-endian integer with no leading zeros (zero is the empty string).
/// </summary>
public sealed class RlpItem
{
    private readonly byte[]? _bytes;
    private readonly RlpItem[]? _items;

    private RlpItem(byte[]? bytes, RlpItem[]? items)
    {
        _bytes = bytes;
        _items = items;
    }

    /// <summary>True for a list, false for a byte string.</summary>
    public bool IsList => _items is not null;

    /// <summary>The byte string; throws if this item is a list.</summary>
    public ReadOnlySpan<byte> Bytes =>
        _bytes ?? throw new InvalidOperationException("RLP item is a list, not a byte string.");

    /// <summary>The list's items; throws if this item is a byte string.</summary>
    public IReadOnlyList<RlpItem> Items =>
        _items ?? throw new InvalidOperationException("RLP item is a byte string, not a list.");

    /// <summary>A byte-string item (copied).</summary>
    public static RlpItem OfBytes(ReadOnlySpan<byte> bytes) => new(bytes.ToArray(), null);

    /// <summary>A scalar item: minimal big-endian bytes, empty for zero.</summary>
    public static RlpItem OfScalar(BigInteger value) => new(Rlp.ScalarToBytes(value), null);

    /// <summary>A list item.</summary>
    public static RlpItem OfList(params IEnumerable<RlpItem> items) => new(null, items.ToArray());

    /// <summary>Reads this byte string as a scalar, rejecting leading zeros as Ethereum does.</summary>
    /// <exception cref="FormatException">The bytes have a leading zero.</exception>
    public BigInteger ToScalar() => Rlp.ScalarFromBytes(Bytes);

    /// <inheritdoc />
    public override string ToString() =>
        _items is null ? Hex.Encode(_bytes) : "[" + string.Join(", ", _items.Select(i => i.ToString())) + "]";
}
