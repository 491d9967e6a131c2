using System.Numerics;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Fees;

/// <summary>How a quote's maximum fee was built; shown to the dApp and kept in the journal.</summary>
public sealed record FeeBreakdown(BigInteger GasLimit, Wei GasPrice, Bps Buffer, Bps Surcharge, ConversionRate Rate, TokenAmount MaxFee);

/// <summary>The outcome of settling a hold against a receipt. <see cref="Shortfall"/> is what the hold could not cover.</summary>
public sealed record Settlement(
    Wei ActualCost,
    TokenAmount Fee,
    TokenAmount Refund,
    TokenAmount Shortfall,
    TokenAmount SurchargeRevenue);

/// <summary>
/// The fee rules, pure and exact. Every product is formed in integers first and divided once at
/// the end, rounding fees up; refunds are what is left of the hold, so they round down.
/// </summary>
public static class FeeEngine
{
    private static readonly BigInteger Scale = Bps.Denominator * Wei.PerCoin;

    /// <summary>
    /// <c>maxFee = gasLimit × gasPrice × (1 + buffer) + gasLimit × gasPrice × surcharge</c>, converted at
    /// <paramref name="rate"/> and rounded up to a whole base unit.
    /// </summary>
    public static FeeBreakdown Quote(BigInteger gasLimit, Wei gasPrice, Bps buffer, Bps surcharge, ConversionRate rate)
    {
        if (gasLimit.Sign <= 0) throw new ArgumentOutOfRangeException(nameof(gasLimit), gasLimit, "Gas limit must be positive.");
        var numerator = gasLimit * gasPrice.Value * (Bps.Denominator + buffer.Value + surcharge.Value) * rate.UnitsPerNativeCoin;
        return new FeeBreakdown(gasLimit, gasPrice, buffer, surcharge, rate, new TokenAmount(rate.Token, CeilDiv(numerator, Scale)));
    }

    /// <summary>
    /// <c>fee = ceil(gasUsed × effectiveGasPrice × (1 + surcharge) × rate)</c>, never above the hold;
    /// <c>refund = hold − fee</c>; whatever the hold could not cover is a recorded shortfall.
    /// </summary>
    public static Settlement Settle(TokenAmount hold, BigInteger gasUsed, Wei effectiveGasPrice, Bps surcharge, ConversionRate rate)
    {
        if (hold.Token != rate.Token) throw new ArgumentException($"Hold in {hold.Token} settled at a {rate.Token} rate.", nameof(rate));
        if (gasUsed.Sign < 0) throw new ArgumentOutOfRangeException(nameof(gasUsed), gasUsed, "Gas used is never negative.");

        var actualCost = gasUsed * effectiveGasPrice.Value;
        var due = CeilDiv(actualCost * (Bps.Denominator + surcharge.Value) * rate.UnitsPerNativeCoin, Scale);
        var fee = BigInteger.Min(due, hold.Units);
        var costPart = BigInteger.Min(fee, CeilDiv(actualCost * rate.UnitsPerNativeCoin, Wei.PerCoin));
        return new Settlement(
            new Wei(actualCost),
            new TokenAmount(hold.Token, fee),
            new TokenAmount(hold.Token, hold.Units - fee),
            new TokenAmount(hold.Token, due - fee),
            new TokenAmount(hold.Token, fee - costPart));
    }

    /// <summary>Ceiling of a non-negative quotient.</summary>
    public static BigInteger CeilDiv(BigInteger numerator, BigInteger denominator)
    {
        var quotient = BigInteger.DivRem(numerator, denominator, out var remainder);
        return remainder.IsZero ? quotient : quotient + 1;
    }
}
