using System.Globalization;
using System.Numerics;

namespace GrandPaymaster.Domain.Money;

/// <summary>A non-negative amount of a fee token in its base units (exact, never a float).</summary>
public readonly record struct TokenAmount
{
    public TokenAmount(FeeToken token, BigInteger units)
    {
        if (units.Sign < 0) throw new ArgumentOutOfRangeException(nameof(units), units, "Token amounts are never negative.");
        Token = token;
        Units = units;
    }

    public FeeToken Token { get; }
    public BigInteger Units { get; }

    public static TokenAmount Zero(FeeToken token) => new(token, BigInteger.Zero);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Units} {Token.Symbol()} base units");
}

/// <summary>An amount of a chain's native coin in wei.</summary>
public readonly record struct Wei
{
    public Wei(BigInteger value)
    {
        if (value.Sign < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "Wei amounts are never negative.");
        Value = value;
    }

    public BigInteger Value { get; }

    public static readonly BigInteger PerCoin = BigInteger.Pow(10, 18);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Value} wei");
}
