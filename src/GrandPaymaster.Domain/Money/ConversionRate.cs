using System.Numerics;

namespace GrandPaymaster.Domain.Money;

/// <summary>
/// A native → token rate in fixed point: how many token base units one whole native coin
/// (10^18 wei) is worth. E.g. 1 ETH = 3,000 USDT is 3,000 × 10^6 = 3,000,000,000.
/// </summary>
public readonly record struct ConversionRate
{
    public ConversionRate(FeeToken token, BigInteger unitsPerNativeCoin)
    {
        if (unitsPerNativeCoin.Sign <= 0)
            throw new ArgumentOutOfRangeException(nameof(unitsPerNativeCoin), unitsPerNativeCoin, "A rate is positive.");
        Token = token;
        UnitsPerNativeCoin = unitsPerNativeCoin;
    }

    public FeeToken Token { get; }
    public BigInteger UnitsPerNativeCoin { get; }
}
