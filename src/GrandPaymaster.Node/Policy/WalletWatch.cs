using System.Globalization;
using System.Numerics;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Node.Policy;

/// <summary>
/// The denylist's pattern rules at the edge (S9): a wallet quoted more than N times in a (calendar) minute by one dApp, or a
/// single quote above X wei of gas. Counted per dApp and wallet: a quote's sender is not verified (the user signs only at
/// execute), so one dApp's traffic must not list a wallet for the others. A rule that fires names the wallet with the reason; the caller adds the entry once and refuses the wallet's
/// further quotes of that minute itself.
/// Memory: at most <see cref="DenylistRuleSettings.TrackedWallets"/> wallets per minute; beyond, new ones are not counted.
/// </summary>
public sealed class WalletWatch(DenylistRuleSettings settings, TimeProvider clock)
{
    private readonly Dictionary<(DappId, Address), int> _counts = new();
    private long _minute = -1;

    /// <summary>
    /// Counts one quote for <paramref name="wallet"/> that may cost <paramref name="mostNativeGas"/>; the reason when a rule fires, and
    /// whether it fired just now (list the wallet) or earlier this minute (refuse it: the list may not have it yet).
    /// </summary>
    public (string Reason, bool New)? Quoted(DappId dapp, Address wallet, BigInteger mostNativeGas)
    {
        if (mostNativeGas > settings.SingleQuoteAboveWei)
            return (string.Create(CultureInfo.InvariantCulture, $"rule single-quote-above: a quote of up to {mostNativeGas} wei of gas (limit {settings.SingleQuoteAboveWei})"), true);
        var minute = clock.GetUtcNow().ToUnixTimeSeconds() / 60;
        lock (_counts)
        {
            if (minute != _minute)
            {
                _counts.Clear();
                _minute = minute;
            }

            if (!_counts.TryGetValue((dapp, wallet), out var count) && _counts.Count >= settings.TrackedWallets) return null;
            _counts[(dapp, wallet)] = ++count;
            return count > settings.WalletQuotesPerMinute
                ? (string.Create(CultureInfo.InvariantCulture, $"rule wallet-quote-rate: more than {settings.WalletQuotesPerMinute} quotes within a minute"),
                    count == settings.WalletQuotesPerMinute + 1)
                : null;
        }
    }
}
