using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// A readable log of one run, kept only when a single seed is replayed: faults, our transactions the chain mined and
/// every journaled event, step by step, in short forms (<c>dapp-a/1f</c> for a quote, <c>w2:7</c> for a worker's nonce).
/// </summary>
public sealed class RunLog(Func<long> step)
{
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, int> _journaled = new(StringComparer.Ordinal);

    public void Write(string line) => _lines.Add($"[{step(),4}] {line}");

    /// <summary>The events journaled since the last call.</summary>
    public void Journals(IReadOnlyList<IPoolEvent> pool, IEnumerable<DappHost> dapps)
    {
        Since("pool", pool, e => $"pool: {Name(e)} {Brief(e)}");
        foreach (var dapp in dapps) Since(dapp.Id.Value, dapp.Journal, e => $"{dapp.Id}: {e.GetType().Name} {Brief(e)}");
    }

    public string Tail(int lines) => string.Join("\n  ", _lines.TakeLast(lines));

    /// <summary>A pool event's name, with the detail that tells its kinds apart (what a run counts).</summary>
    public static string Name(IPoolEvent e) => e switch
    {
        TxReplaced r => $"{nameof(TxReplaced)} {r.Attempt.Kind}",
        TxDropped { CancelTxHash: not null } => $"{nameof(TxDropped)} by our cancel",
        TxDropped => $"{nameof(TxDropped)} nonce taken by another",
        PoolModeChanged m => $"{nameof(PoolModeChanged)} {m.Mode} {m.Cause}",
        _ => e.GetType().Name,
    };

    public static string Short(string hex) => hex.Length > 10 ? hex[..10] : hex;

    /// <summary>A quote as <c>dapp-a/1f</c>.</summary>
    public static string Q(QuoteId? quoteId) => quoteId is { } q ? $"{q.Dapp}/{q.Value[^32..].TrimStart('0')}" : "-";

    /// <summary>A worker as <c>w2</c> (the simulated workers' addresses are their numbers).</summary>
    public static string W(Address wallet) => $"w{wallet.Value.TrimStart('0', 'x')}";

    private void Since<T>(string journal, IReadOnlyList<T> events, Func<T, string> describe)
    {
        foreach (var e in events.Skip(_journaled.GetValueOrDefault(journal))) Write(describe(e));
        _journaled[journal] = events.Count;
    }

    private static string Brief(object e) => e switch
    {
        TxSubmitted s => $"{Q(s.QuoteId)} {Short(s.TxHash)} {W(s.Wallet)}:{s.Nonce}",
        TxBroadcastFailed f => $"{Q(f.QuoteId)} {Short(f.TxHash)} {W(f.Wallet)}:{f.Nonce}",
        TxReplaced r => $"{Q(r.QuoteId)} {Short(r.Attempt.TxHash)}",
        TxConfirmed c => $"{Q(c.QuoteId)} {Short(c.TxHash)}",
        TxDropped d => $"{Q(d.QuoteId)} {d.Reason}",
        RelayRefused r => Q(r.QuoteId),
        NonceGapFound g => $"{W(g.Wallet)}:{string.Join(",", g.Nonces)}",
        GapFillSubmitted g => $"{W(g.Wallet)}:{g.Nonce} {Short(g.Attempt.TxHash)}",
        GapFilled g => $"{W(g.Wallet)}:{g.Nonce}",
        SettlementsAcknowledged a => string.Join(",", a.QuoteIds.Select(q => Q(q))),
        DappEvents.FeeDeducted d => Q(d.QuoteId),
        DappEvents.RelaySubmitted r => $"{Q(r.QuoteId)} {Short(r.TxHash)}",
        DappEvents.RelayAttemptAdded a => $"{Q(a.QuoteId)} {a.Kind} {Short(a.TxHash)}",
        DappEvents.FeeReleased r => $"{Q(r.QuoteId)} {r.Reason}",
        DappEvents.FeeSettled s => $"{Q(s.QuoteId)} {Short(s.Settlement.TxHash)}",
        _ => "",
    };
}
