using System.Buffers.Binary;
using System.Numerics;

namespace GrandPaymaster.Chain.Encoding;

/// <summary>
/// Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B). The decoder accepts
/// only canonical encodings, because two encodings of one transaction would give two hashes.
/// </summary>
public static class Rlp
{
    // Hostile input can nest one list per byte; cap recursion well above anything a transaction needs.
    private const int MaxDepth = 64;
    private const int ShortLimit = 55;
    private const byte StringOffset = 0x80;
    private const byte ListOffset = 0xc0;

    /// <summary>Encodes an item tree.</summary>
    public static byte[] Encode(RlpItem item) =>
        item.IsList ? EncodeList(item.Items.Select(Encode)) : EncodeBytes(item.Bytes);

    /// <summary>Encodes a byte string.</summary>
    public static byte[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1 && bytes[0] < StringOffset)
            return [bytes[0]];
        return [.. Header(StringOffset, bytes.Length), .. bytes];
    }

    /// <summary>Encodes a non-negative integer as a minimal big-endian byte string.</summary>
    public static byte[] EncodeScalar(BigInteger value) => EncodeBytes(ScalarToBytes(value));

    /// <summary>Wraps already-encoded items in a list header.</summary>
    public static byte[] EncodeList(IEnumerable<byte[]> encodedItems)
    {
        var parts = encodedItems.ToArray();
        var payloadLength = parts.Sum(p => p.Length);
        var output = new List<byte>(payloadLength + 9);
        output.AddRange(Header(ListOffset, payloadLength));
        foreach (var part in parts)
            output.AddRange(part);
        return [.. output];
    }

    /// <summary>Minimal big-endian bytes of a non-negative integer; empty for zero.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static byte[] ScalarToBytes(BigInteger value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Reads a big-endian integer, rejecting leading zeros (not canonical).</summary>
    /// <exception cref="FormatException">The bytes start with a zero.</exception>
    public static BigInteger ScalarFromBytes(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty && bytes[0] == 0)
            throw new FormatException("RLP scalar has a leading zero byte.");
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Decodes exactly one item that must fill the whole input.</summary>
    /// <exception cref="FormatException">The input is truncated, has trailing bytes, or is not canonical.</exception>
    public static RlpItem Decode(ReadOnlySpan<byte> encoded)
    {
        var item = DecodeOne(encoded, 0, out var consumed);
        if (consumed != encoded.Length)
            throw new FormatException($"RLP has {encoded.Length - consumed} trailing byte(s) after the item.");
        return item;
    }

    private static byte[] Header(byte offset, int payloadLength)
    {
        if (payloadLength <= ShortLimit)
            return [(byte)(offset + payloadLength)];
        Span<byte> buffer = stackalloc byte[sizeof(int)];
        BinaryPrimitives.WriteInt32BigEndian(buffer, payloadLength);
        var length = buffer.TrimStart((byte)0);
        return [(byte)(offset + ShortLimit + length.Length), .. length];
    }

    private static RlpItem DecodeOne(ReadOnlySpan<byte> input, int depth, out int consumed)
    {
        if (input.IsEmpty)
            throw new FormatException("RLP input ended where an item was expected.");
        var prefix = input[0];
        if (prefix < StringOffset)
        {
            consumed = 1;
            return RlpItem.OfBytes(input[..1]);
        }

        var isList = prefix >= ListOffset;
        var shortForm = prefix - (isList ? ListOffset : StringOffset);
        int headerLength, payloadLength;
        if (shortForm <= ShortLimit)
        {
            headerLength = 1;
            payloadLength = shortForm;
        }
        else
        {
            var lengthOfLength = shortForm - ShortLimit;
            headerLength = 1 + lengthOfLength;
            if (input.Length < headerLength)
                throw new FormatException("RLP input ended inside a length prefix.");
            var lengthBytes = input.Slice(1, lengthOfLength);
            if (lengthBytes[0] == 0)
                throw new FormatException("RLP length prefix has a leading zero byte.");
            if (lengthOfLength > sizeof(int))
                throw new FormatException("RLP length prefix is too large.");
            var declared = (long)ScalarFromBytes(lengthBytes);
            if (declared <= ShortLimit)
                throw new FormatException($"RLP uses the long form for a {declared}-byte payload; the short form is canonical.");
            if (declared > int.MaxValue)
                throw new FormatException("RLP length prefix is too large.");
            payloadLength = (int)declared;
        }

        if ((long)headerLength + payloadLength > input.Length)
            throw new FormatException($"RLP item declares {payloadLength} byte(s) but only {input.Length - headerLength} remain.");
        consumed = headerLength + payloadLength;
        var payload = input.Slice(headerLength, payloadLength);

        if (!isList)
        {
            if (payloadLength == 1 && payload[0] < StringOffset)
                throw new FormatException("RLP encodes a single byte below 0x80 with a prefix; the byte alone is canonical.");
            return RlpItem.OfBytes(payload);
        }

        if (depth >= MaxDepth)
            throw new FormatException($"RLP lists nest deeper than {MaxDepth} levels.");
        var items = new List<RlpItem>();
        while (!payload.IsEmpty)
        {
            items.Add(DecodeOne(payload, depth + 1, out var used));
            payload = payload[used..];
        }
        return RlpItem.OfList(items);
    }
}
