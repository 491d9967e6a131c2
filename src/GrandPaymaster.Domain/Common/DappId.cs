namespace GrandPaymaster.Domain.Common;

/// <summary>A dApp's id: lower-case letters, digits and '-', 3–40 characters (it is part of API keys and URLs).</summary>
public readonly record struct DappId
{
    private DappId(string value) => Value = value;

    public string Value { get; }

    public static DappId New() => new("d-" + Guid.NewGuid().ToString("N")[..16]);

    public static DappId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a dApp id.");

    public static bool TryParse(string? text, out DappId id)
    {
        id = default;
        if (text is null || text.Length is < 3 or > 40) return false;
        foreach (var c in text)
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')) return false;
        id = new DappId(text);
        return true;
    }

    public override string ToString() => Value;
}
