using System.Globalization;

namespace GrandPaymaster.Domain.Money;

/// <summary>A non-negative fraction in basis points (1 bps = 0.01 %), so fee arithmetic stays integral.</summary>
public readonly record struct Bps
{
    public const int Denominator = 10_000;

    public Bps(int value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "Basis points are never negative.");
        Value = value;
    }

    public int Value { get; }

    /// <summary>The dApp surcharge range of the product: 20–50 %.</summary>
    public static readonly Bps MinSurcharge = new(2_000);
    public static readonly Bps MaxSurcharge = new(5_000);

    public bool IsValidSurcharge => Value >= MinSurcharge.Value && Value <= MaxSurcharge.Value;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value / 100m:0.##}%");
}
