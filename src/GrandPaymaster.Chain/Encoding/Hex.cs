using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;

namespace GrandPaymaster.Chain.Encoding;

/// <summary>
/// Hex text as Ethereum and JSON-RPC use it: byte strings (<c>0x</c>-prefixed data) and
/// quantities (<c>0x</c>-prefixed, non-negative, no leading zeros when we write them).
/// </summary>
public static class Hex
{
    /// <summary>Lower-case hex of <paramref name="bytes"/>, with a <c>0x</c> prefix unless told otherwise.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes, bool prefix = true)
    {
        var digits = Convert.ToHexStringLower(bytes);
        return prefix ? "0x" + digits : digits;
    }

    /// <summary>Decodes hex with or without a <c>0x</c> prefix, in either case.</summary>
    /// <exception cref="FormatException">The text is null, of odd length, or holds a non-hex character.</exception>
    public static byte[] Decode(string hex) =>
        TryDecode(hex, out var bytes, out var error) ? bytes : throw new FormatException(error);

    /// <summary>Like <see cref="Decode"/>, but reports failure instead of throwing.</summary>
    public static bool TryDecode([NotNullWhen(true)] string? hex, [NotNullWhen(true)] out byte[]? bytes) =>
        TryDecode(hex, out bytes, out _);

    /// <summary>Parses a JSON-RPC quantity such as <c>0x0</c> or <c>0x1a</c>; the result is never negative.</summary>
    /// <exception cref="FormatException">The text lacks the <c>0x</c> prefix, has no digits, or holds a non-hex character.</exception>
    public static BigInteger ParseQuantity(string quantity)
    {
        if (quantity is null)
            throw new FormatException("Quantity is null.");
        if (!HasPrefix(quantity))
            throw new FormatException($"Quantity '{quantity}' must start with 0x.");
        var digits = quantity.AsSpan(2);
        if (digits.IsEmpty)
            throw new FormatException("Quantity '0x' has no digits; zero is written 0x0.");
        var bad = IndexOfNonHex(digits);
        if (bad >= 0)
            throw new FormatException($"Quantity '{quantity}' has a non-hex character '{digits[bad]}' at position {bad + 2}.");
        // A leading 0 keeps the top bit from being read as a sign.
        return BigInteger.Parse("0" + digits.ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    /// <summary>Writes a JSON-RPC quantity: <c>0x0</c> for zero, otherwise lower-case hex without leading zeros.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static string FormatQuantity(BigInteger value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value.IsZero)
            return "0x0";
        return "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
    }

    private static bool TryDecode(string? hex, [NotNullWhen(true)] out byte[]? bytes, out string error)
    {
        bytes = null;
        if (hex is null)
        {
            error = "Hex string is null.";
            return false;
        }
        var digits = HasPrefix(hex) ? hex.AsSpan(2) : hex.AsSpan();
        if (digits.Length % 2 != 0)
        {
            error = $"Hex string has an odd number of digits ({digits.Length}).";
            return false;
        }
        var bad = IndexOfNonHex(digits);
        if (bad >= 0)
        {
            error = $"Hex string has a non-hex character '{digits[bad]}' at position {bad + hex.Length - digits.Length}.";
            return false;
        }
        bytes = Convert.FromHexString(digits);
        error = "";
        return true;
    }

    private static bool HasPrefix(string text) =>
        text.Length >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');

    private static int IndexOfNonHex(ReadOnlySpan<char> digits)
    {
        for (var i = 0; i < digits.Length; i++)
        {
            if (!char.IsAsciiHexDigit(digits[i]))
                return i;
        }
        return -1;
    }
}
