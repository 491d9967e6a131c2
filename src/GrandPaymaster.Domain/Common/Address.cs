namespace GrandPaymaster.Domain.Common;

/// <summary>
/// A 20-byte EVM account address as an identifier, kept in lower-case canonical form so that two
/// spellings of one account compare equal. Checksums are the Chain project's business.
/// </summary>
public readonly record struct Address
{
    private Address(string value) => Value = value;

    /// <summary>Lower-case <c>0x</c>-prefixed hex, 42 characters.</summary>
    public string Value { get; }

    public static Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not a 0x-prefixed 20-byte hex address.");

    public static bool TryParse(string? text, out Address address)
    {
        address = default;
        if (text is null || text.Length != 42 || !text.StartsWith("0x", StringComparison.Ordinal)) return false;
        for (var i = 2; i < text.Length; i++)
            if (!Uri.IsHexDigit(text[i])) return false;
        address = new Address(text.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Value;
}
