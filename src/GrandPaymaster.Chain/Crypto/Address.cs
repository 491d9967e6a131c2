using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Crypto;

/// <summary>
/// A 20-byte Ethereum account address. Held as three integers so that it is a true value
/// (equality, hashing, <c>default</c> = the zero address) with no array to alias.
/// </summary>
public readonly record struct EthAddress
{
    /// <summary>Size of an address in bytes.</summary>
    public const int Size = 20;

    private readonly ulong _high;
    private readonly ulong _middle;
    private readonly uint _low;

    /// <summary>Builds an address from exactly 20 bytes.</summary>
    public EthAddress(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            throw new ArgumentException($"An address is {Size} bytes, got {bytes.Length}.", nameof(bytes));
        _high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _middle = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _low = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>The all-zero address.</summary>
    public static EthAddress Zero => default;

    /// <summary>The 20 address bytes.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), _middle);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), _low);
        return bytes;
    }

    /// <summary>The address of a secp256k1 public key: the last 20 bytes of its Keccak-256.</summary>
    /// <param name="publicKey">Uncompressed key, 64 bytes (x || y), or 65 with the 0x04 marker.</param>
    public static EthAddress FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length == 65 && publicKey[0] == 0x04)
            publicKey = publicKey[1..];
        if (publicKey.Length != 64)
            throw new ArgumentException($"An uncompressed public key is 64 bytes, got {publicKey.Length}.", nameof(publicKey));
        return new EthAddress(Keccak256.Hash(publicKey).AsSpan(Keccak256.Size - Size));
    }

    /// <summary>
    /// Parses 40 hex digits (with or without <c>0x</c>). All-lower and all-upper text is accepted
    /// as is; mixed case is taken as an EIP-55 checksum and must be right.
    /// </summary>
    /// <exception cref="FormatException">Wrong length, a non-hex character, or a wrong checksum.</exception>
    public static EthAddress Parse(string text) =>
        TryParse(text, out var address, out var error) ? address : throw new FormatException(error);

    /// <summary>Like <see cref="Parse"/>, but reports failure instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out EthAddress address) =>
        TryParse(text, out address, out _);

    /// <summary>The EIP-55 mixed-case checksum form, with <c>0x</c>.</summary>
    public string ToChecksumString() => "0x" + ChecksumDigits();

    /// <summary>The EIP-55 checksum form.</summary>
    public override string ToString() => ToChecksumString();

    private string ChecksumDigits()
    {
        var lower = Hex.Encode(ToArray(), prefix: false);
        var hash = Keccak256.Hash(System.Text.Encoding.ASCII.GetBytes(lower));
        return string.Create(lower.Length, (lower, hash), static (chars, state) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                var nibble = (i % 2 == 0 ? state.hash[i / 2] >> 4 : state.hash[i / 2]) & 0x0f;
                chars[i] = nibble >= 8 ? char.ToUpperInvariant(state.lower[i]) : state.lower[i];
            }
        });
    }

    private static bool TryParse(string? text, out EthAddress address, out string error)
    {
        address = default;
        if (text is null)
        {
            error = "Address is null.";
            return false;
        }
        var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (digits.Length != Size * 2)
        {
            error = $"Address '{text}' must have {Size * 2} hex digits, not {digits.Length}.";
            return false;
        }
        if (!Hex.TryDecode(digits, out var bytes))
        {
            error = $"Address '{text}' has a non-hex character.";
            return false;
        }
        var candidate = new EthAddress(bytes);
        var mixedCase = digits.Any(char.IsAsciiLetterLower) && digits.Any(char.IsAsciiLetterUpper);
        if (mixedCase && candidate.ChecksumDigits() != digits)
        {
            error = $"Address '{text}' is mixed-case but its EIP-55 checksum is wrong (expected {candidate.ToChecksumString()}).";
            return false;
        }
        address = candidate;
        error = "";
        return true;
    }
}
