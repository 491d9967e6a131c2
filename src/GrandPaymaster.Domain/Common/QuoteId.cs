namespace GrandPaymaster.Domain.Common;

/// <summary>
/// A quote's id. It names its dApp (<c>q-{dappId}-{random}</c>) so that an execute or status request
/// routes to the right entity without a lookup table.
/// </summary>
public readonly record struct QuoteId
{
    private QuoteId(string value, DappId dapp)
    {
        Value = value;
        Dapp = dapp;
    }

    public string Value { get; }
    public DappId Dapp { get; }

    public static QuoteId New(DappId dapp) => new($"q-{dapp.Value}-{Guid.NewGuid():N}", dapp);

    public static QuoteId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a quote id.");

    public static bool TryParse(string? text, out QuoteId id)
    {
        id = default;
        // q-{dappId}-{32 hex}
        if (text is null || text.Length < 2 + 3 + 1 + 32 || !text.StartsWith("q-", StringComparison.Ordinal)) return false;
        var random = text[^32..];
        if (text[^33] != '-' || !random.All(Uri.IsHexDigit) || random.Any(char.IsUpper)) return false;
        if (!DappId.TryParse(text[2..^33], out var dapp)) return false;
        id = new QuoteId(text, dapp);
        return true;
    }

    public override string ToString() => Value;
}
