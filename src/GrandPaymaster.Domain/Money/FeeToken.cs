namespace GrandPaymaster.Domain.Money;

/// <summary>The tokens a dApp can pay fees in.</summary>
public enum FeeToken
{
    Usdt,
    Vcn,
}

/// <summary>Symbols and decimals of <see cref="FeeToken"/>.</summary>
public static class FeeTokens
{
    public static readonly IReadOnlyList<FeeToken> All = [FeeToken.Usdt, FeeToken.Vcn];

    /// <summary>USDT has 6 decimals, VCN 18: amounts are always integers of these base units.</summary>
    public static int Decimals(this FeeToken token) => token switch
    {
        FeeToken.Usdt => 6,
        FeeToken.Vcn => 18,
        _ => throw new ArgumentOutOfRangeException(nameof(token), token, null),
    };

    public static string Symbol(this FeeToken token) => token switch
    {
        FeeToken.Usdt => "USDT",
        FeeToken.Vcn => "VCN",
        _ => throw new ArgumentOutOfRangeException(nameof(token), token, null),
    };

    public static bool TryParse(string? symbol, out FeeToken token)
    {
        switch (symbol)
        {
            case "USDT":
                token = FeeToken.Usdt;
                return true;
            case "VCN":
                token = FeeToken.Vcn;
                return true;
            default:
                token = default;
                return false;
        }
    }
}
