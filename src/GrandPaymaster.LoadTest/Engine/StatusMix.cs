using System.Collections.Concurrent;

namespace GrandPaymaster.LoadTest.Engine;

/// <summary>How a scenario's requests were answered: a count per outcome (<c>201</c>, <c>429 throttled</c>…); safe to add to from many requests at once.</summary>
public sealed class StatusMix
{
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public void Add(string outcome) => _counts.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    public long Total => _counts.Values.Sum();

    /// <summary>Answers whose outcome starts with one of <paramref name="prefixes"/> (<c>"503"</c>, <c>"429 throttled"</c>).</summary>
    public long Count(params string[] prefixes) =>
        _counts.Where(c => prefixes.Any(p => c.Key.StartsWith(p, StringComparison.Ordinal))).Sum(c => c.Value);

    /// <summary>Largest first: <c>429 throttled: 9,000 (90.00 %), 401: 1,000 (10.00 %)</c>.</summary>
    public override string ToString()
    {
        var total = Total;
        if (total == 0) return "no answers";
        return string.Join(", ", _counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => $"{c.Key}: {c.Value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} ({Figures.Percent((double)c.Value / total)})"));
    }
}
