using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Node.Policy;

/// <summary>
/// The denylist's pattern rules at the edge (S9): a wallet quoted more than N times in a (calendar) minute by one dApp, or a
/// single quote above X wei of gas. Counted per dApp and wallet: a quote's sender is not verified (the user signs only at
/// execute), so one dApp's traffic must not list a wallet for the others. A rule that fires names the wallet with the reason;
/// the caller adds the entry once and refuses the wallet's further quotes of that minute itself. Memory: at most
/// <see cref="DenylistRuleSettings.TrackedWallets"/> pairs a minute; beyond, new ones are not counted that minute. Every quote
/// passes here, so it takes no lock: one counter map per minute, swapped when the minute changes.
/// </summary>
public sealed class WalletWatch(DenylistRuleSettings settings, TimeProvider clock)
{
    private volatile Minute _current = new(-1);

    /// <summary>
    /// Counts one quote for <paramref name="wallet"/> that may cost <paramref name="mostNativeGas"/>; the reason when a rule fires, and
    /// whether it fired just now (list the wallet) or earlier this minute (refuse it: the list may not have it yet).
    /// </summary>
    public (string Reason, bool New)? Quoted(DappId dapp, Address wallet, BigInteger mostNativeGas)
    {
        if (mostNativeGas > settings.SingleQuoteAboveWei)
            return (string.Create(CultureInfo.InvariantCulture, $"rule single-quote-above: a quote of up to {mostNativeGas} wei of gas (limit {settings.SingleQuoteAboveWei})"), true);
        var minute = CurrentMinute();
        if (!minute.Counts.TryGetValue((dapp, wallet), out var counter))
        {
            if (Interlocked.Increment(ref minute.Tracked) > settings.TrackedWallets) return null;
            counter = minute.Counts.GetOrAdd((dapp, wallet), _ => new Counter());
        }

        var count = Interlocked.Increment(ref counter.Value);
        return count > settings.WalletQuotesPerMinute
            ? (string.Create(CultureInfo.InvariantCulture, $"rule wallet-quote-rate: more than {settings.WalletQuotesPerMinute} quotes within a minute"),
                count == settings.WalletQuotesPerMinute + 1)
            : null;
    }

    private Minute CurrentMinute()
    {
        var number = clock.GetUtcNow().ToUnixTimeSeconds() / 60;
        var current = _current;
        if (current.Number == number) return current;
        var next = new Minute(number);
        return Interlocked.CompareExchange(ref _current, next, current) == current ? next : _current;
    }

    private sealed class Minute(long number)
    {
        public readonly long Number = number;
        public readonly ConcurrentDictionary<(DappId, Address), Counter> Counts = new();
        public int Tracked;
    }

    private sealed class Counter
    {
        public int Value;
    }
}
