using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using Akka.Configuration;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;

namespace GrandPaymaster.Actors.Treasury;

/// <summary>Reads <c>hocon/treasury.hocon</c> under the operator's overlay (<c>Gpm:Treasury:Hocon</c>); bad values stop the node at start.</summary>
public static class TreasuryHocon
{
    public static TreasurySettings Load(string overlay) =>
        From(ConfigurationFactory.ParseString(overlay ?? "").WithFallback(PersistenceHocon.Load("treasury.hocon")));

    public static TreasurySettings From(Config root)
    {
        var c = root.GetConfig("gpm.treasury");
        var defaults = Thresholds(c.GetConfig("thresholds"), null, "gpm.treasury.thresholds");
        var perChain = ImmutableDictionary<long, WalletThresholds>.Empty;
        var chains = c.GetConfig("chains");
        if (chains is not null && !chains.IsEmpty)
            foreach (var (key, _) in chains.Root.GetObject().Items)
            {
                if (!long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var chainId) || chainId <= 0)
                    throw new InvalidOperationException($"gpm.treasury.chains: \"{key}\" is not a chain id.");
                perChain = perChain.SetItem(chainId, Thresholds(chains.GetConfig($"\"{key}\""), defaults, $"gpm.treasury.chains.\"{key}\""));
            }

        var retry = c.GetConfig("retry");
        return new TreasurySettings
        {
            Thresholds = defaults,
            PerChain = perChain,
            BalanceEvery = c.GetTimeSpan("balance-every"),
            HintDebounce = c.GetTimeSpan("hint-debounce"),
            SpendWindow = c.GetTimeSpan("spend-window"),
            MaxSamples = c.GetInt("max-samples"),
            Tick = c.GetTimeSpan("tick"),
            ReplyTimeout = c.GetTimeSpan("reply-timeout"),
            Retry = new RetryPolicy(retry.GetTimeSpan("base"), retry.GetDouble("factor"), retry.GetTimeSpan("cap"), retry.GetDouble("jitter")),
            PageAfterFailures = c.GetInt("page-after-failures"),
            PageSeverity = c.GetString("page-severity"),
            MaxWalletsPerChain = c.GetInt("max-wallets-per-chain"),
            SnapshotEvery = c.GetInt("snapshot-every"),
        }.Checked();
    }

    private static WalletThresholds Thresholds(Config c, WalletThresholds? fallback, string where)
    {
        Wei Read(string key, Wei? otherwise) => c.HasPath(key) ? new Wei(ParseWei(c.GetString(key), $"{where}.{key}"))
            : otherwise ?? throw new InvalidOperationException($"{where}.{key} is missing.");
        return new WalletThresholds(Read("min", fallback?.Min), Read("warning", fallback?.Warning), Read("target", fallback?.Target),
            Read("ceiling", fallback?.Ceiling), Read("min-top-up", fallback?.MinTopUp)).Checked(where);
    }

    /// <summary><c>"1000000000"</c> (wei), <c>"2.5 ether"</c> or <c>"30 gwei"</c>: exact, never through a float.</summary>
    public static BigInteger ParseWei(string text, string where)
    {
        var parts = (text ?? "").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var decimals = parts.Length switch
        {
            1 => 0,
            2 when parts[1].Equals("ether", StringComparison.OrdinalIgnoreCase) || parts[1].Equals("eth", StringComparison.OrdinalIgnoreCase) => 18,
            2 when parts[1].Equals("gwei", StringComparison.OrdinalIgnoreCase) => 9,
            2 when parts[1].Equals("wei", StringComparison.OrdinalIgnoreCase) => 0,
            _ => -1,
        };
        if (decimals < 0 || parts.Length == 0) throw new InvalidOperationException($"{where}: '{text}' is not an amount (wei, or a number of ether / gwei).");
        var number = parts[0];
        var dot = number.IndexOf('.');
        var whole = dot < 0 ? number : number[..dot];
        var fraction = dot < 0 ? "" : number[(dot + 1)..];
        if (whole.Length == 0 || !whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit) || fraction.Length > decimals)
            throw new InvalidOperationException($"{where}: '{text}' is not an amount (wei, or a number of ether / gwei with at most {decimals} decimals).");
        return BigInteger.Parse(whole + fraction.PadRight(decimals, '0'), CultureInfo.InvariantCulture);
    }
}
