using System.Globalization;

namespace GrandPaymaster.Domain.Common;

/// <summary>An EIP-155 chain id.</summary>
public readonly record struct ChainId
{
    public ChainId(long value)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(nameof(value), value, "A chain id is a positive integer.");
        Value = value;
    }

    public long Value { get; }

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out ChainId chainId)
    {
        chainId = default;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0) return false;
        chainId = new ChainId(value);
        return true;
    }
}
