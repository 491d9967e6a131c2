using System.Collections.Immutable;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>
/// One pool wallet's need of a top-up: queued (<see cref="RequestId"/> null) or in flight at the Vault. <see cref="Failures"/> in a
/// row and <see cref="NextAttemptAt"/> are its backoff; <see cref="Order"/> keeps FIFO within a priority.
/// </summary>
public sealed record RebalanceNeed(
    string NeedId,
    ChainId ChainId,
    Address Wallet,
    RebalancePriority Priority,
    Wei Amount,
    DateTimeOffset QueuedAt,
    long Order,
    int Failures = 0,
    DateTimeOffset? NextAttemptAt = null,
    string? LastError = null,
    int Attempts = 0,
    string? RequestId = null,
    DateTimeOffset? StartedAt = null,
    string? TxHash = null)
{
    public bool InFlight => RequestId is not null;
}

/// <summary>
/// A chain whose top-ups keep failing: one trigger is owed until the pager took it, one resolve once the chain recovered (only if a
/// trigger was paged). Journaled, so a moved singleton never pages a trigger twice.
/// </summary>
public sealed record Escalation(ChainId ChainId, string DedupKey, string Summary, DateTimeOffset Since, bool TriggerPaged = false, bool Recovered = false)
{
    public bool OwesTrigger => !TriggerPaged && !Recovered;
    public bool OwesResolve => TriggerPaged && Recovered;
}

/// <summary>The page actions of the PagerDuty Events API v2 the Orchestrator sends.</summary>
public static class PageAction
{
    public const string Trigger = "trigger";
    public const string Resolve = "resolve";
}

/// <summary>
/// The Orchestrator's journaled state (pure; DESIGN.md §8): the rebalance queue — at most one need per pool wallet, at most one top-up
/// in flight per chain, served Critical before Warning before Normal and FIFO within a priority — its retries with exponential
/// backoff and jitter, and each chain's escalation (page once, resolve once). Decisions return events; <see cref="Apply"/> folds
/// them. Time and randomness come in as arguments.
/// </summary>
public sealed record OrchestratorState(ImmutableDictionary<string, RebalanceNeed> Needs, ImmutableDictionary<long, Escalation> Escalations, long Sequence)
    : IPaymasterMessage
{
    public const string Component = "orchestrator";

    public static readonly OrchestratorState Empty = new(ImmutableDictionary<string, RebalanceNeed>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<long, Escalation>.Empty, 0);

    /// <summary>The dedup key of a chain's paging: <c>topup_failing:chain &lt;id&gt;</c> (the chain and the reason).</summary>
    public static string DedupKeyOf(ChainId chain) => Alert.DedupKeyOf(AlertKinds.TopUpFailing, SubjectOf(chain));

    /// <summary>The subject of a chain's <c>topup_failing</c> alert.</summary>
    public static string SubjectOf(ChainId chain) => $"chain {chain.Value}";

    public static string RequestIdOf(string needId, int attempt) => $"{needId}.{attempt}";

    public RebalanceNeed? NeedOf(ChainId chain, Address wallet) => Needs.Values.FirstOrDefault(n => n.ChainId == chain && n.Wallet == wallet);

    public RebalanceNeed? ByRequest(string requestId) => Needs.Values.FirstOrDefault(n => n.RequestId == requestId);

    public IEnumerable<RebalanceNeed> InFlight => Needs.Values.Where(n => n.InFlight).OrderBy(n => n.ChainId.Value);

    /// <summary>The queue in serving order: priority, then arrival.</summary>
    public IEnumerable<RebalanceNeed> Queue => Needs.Values.Where(n => !n.InFlight).OrderBy(n => n.Priority).ThenBy(n => n.Order);

    /// <summary>
    /// A wallet's reading: queues a need when its thresholds call for one (none is queued for it), replaces a queued less urgent one
    /// (<see cref="TopUpSuperseded"/>: its failures and backoff carry over), or cancels a queued one the wallet no longer needs.
    /// A need in flight is left alone: its request decides.
    /// </summary>
    public ImmutableArray<IOrchestratorEvent> Observe(ChainId chain, Address wallet, Wei balance, WalletThresholds thresholds, string newNeedId, DateTimeOffset now)
    {
        var priority = thresholds.Classify(balance);
        var current = NeedOf(chain, wallet);
        if (current is { InFlight: true }) return [];
        if (priority is not { } urgency)
            return current is null ? [] : [new TopUpCancelled(current.NeedId, Meta(now, $"wallet {wallet} holds {balance}: no top-up needed any more", current.NeedId))];
        var amount = thresholds.ShortfallOf(balance);
        if (current is null)
            return [new TopUpQueued(newNeedId, chain, wallet, urgency, amount, balance,
                Meta(now, $"wallet {wallet} of chain {chain} holds {balance}: {Name(urgency)} top-up of {amount} to target", newNeedId))];
        if (urgency >= current.Priority) return [];
        return [new TopUpSuperseded(current.NeedId, newNeedId, urgency, amount, balance,
            Meta(now, $"wallet {wallet} of chain {chain} holds {balance}: {Name(urgency)} top-up of {amount} supersedes the queued {Name(current.Priority)} need", newNeedId))];
    }

    /// <summary>The needs to start now: per chain without a top-up in flight, the first of its queue whose backoff is over.</summary>
    public IReadOnlyList<RebalanceNeed> Due(DateTimeOffset now)
    {
        var busy = Needs.Values.Where(n => n.InFlight).Select(n => n.ChainId).ToHashSet();
        return Queue.Where(n => !busy.Contains(n.ChainId) && (n.NextAttemptAt is null || n.NextAttemptAt <= now))
            .GroupBy(n => n.ChainId).Select(g => g.First()).OrderBy(n => n.Priority).ThenBy(n => n.Order).ToArray();
    }

    /// <summary>When the earliest waiting retry is due (null: none waits).</summary>
    public DateTimeOffset? NextRetryAt =>
        Queue.Where(n => n.NextAttemptAt is not null).Select(n => n.NextAttemptAt).Min();

    /// <summary>Starts <paramref name="need"/>'s next attempt under a fresh request id, for <paramref name="amount"/>.</summary>
    public TopUpStarted Start(RebalanceNeed need, Wei amount, DateTimeOffset now)
    {
        var attempt = need.Attempts + 1;
        var requestId = RequestIdOf(need.NeedId, attempt);
        return new TopUpStarted(need.NeedId, requestId, amount, attempt,
            Meta(now, $"{Name(need.Priority)} top-up of {amount} to {need.Wallet} on chain {need.ChainId} requested from the vault (attempt {attempt})", need.NeedId));
    }

    /// <summary>The Vault broadcast the transfer of an in-flight request (recorded once per hash).</summary>
    public ImmutableArray<IOrchestratorEvent> Broadcast(string requestId, string txHash, DateTimeOffset now) =>
        ByRequest(requestId) is { } need && !string.Equals(need.TxHash, txHash, StringComparison.OrdinalIgnoreCase)
            ? [new TopUpBroadcast(need.NeedId, requestId, txHash, Meta(now, $"the vault broadcast {txHash}", need.NeedId))]
            : [];

    /// <summary>The transfer of an in-flight request is final: the need is met; an escalated chain with no other failing need recovers.</summary>
    public ImmutableArray<IOrchestratorEvent> Complete(string requestId, string txHash, Wei amount, DateTimeOffset now)
    {
        if (ByRequest(requestId) is not { } need) return [];
        var done = new TopUpSucceeded(need.NeedId, requestId, txHash, amount,
            Meta(now, $"{amount} reached {need.Wallet} on chain {need.ChainId} ({txHash})", need.NeedId));
        var stillFailing = Needs.Values.Any(n => n.ChainId == need.ChainId && n.NeedId != need.NeedId && n.Failures > 0);
        if (Escalations.TryGetValue(need.ChainId.Value, out var escalation) && !escalation.Recovered && !stillFailing)
            return [done, new TopUpRecovered(need.ChainId, Meta(now, $"a top-up of chain {need.ChainId} succeeded again", need.NeedId))];
        return [done];
    }

    /// <summary>
    /// Nothing was paid for an in-flight request: the need waits out its backoff (a refusal — not retryable — waits the cap and counts
    /// as enough failures to page at once); at <c>page-after-failures</c> the chain escalates.
    /// </summary>
    public ImmutableArray<IOrchestratorEvent> Fail(string requestId, string code, string reason, bool retryable, DateTimeOffset now, double unit,
        TreasurySettings settings)
    {
        if (ByRequest(requestId) is not { } need) return [];
        var failures = retryable ? need.Failures + 1 : Math.Max(need.Failures + 1, settings.PageAfterFailures);
        var wait = retryable ? settings.Retry.DelayAfter(failures, unit) : settings.Retry.Cap;
        var failed = new TopUpFailed(need.NeedId, requestId, code, Bounded(reason), retryable, failures, now + wait,
            Meta(now, $"top-up of chain {need.ChainId} failed ({code}, {failures} in a row): retried at {now + wait:O}", need.NeedId));
        var open = Escalations.TryGetValue(need.ChainId.Value, out var escalation) && !escalation.Recovered;
        if (failures < settings.PageAfterFailures || open) return [failed];
        var summary = $"Top-ups of pool wallet {need.Wallet} on chain {need.ChainId} failed {failures} times in a row; last: {code}: {Bounded(reason)}";
        return [failed, new TopUpEscalated(need.ChainId, DedupKeyOf(need.ChainId), summary, Meta(now, summary, need.NeedId))];
    }

    /// <summary>Pages owed: a trigger of each open escalation not yet paged, a resolve of each recovered one whose trigger was.</summary>
    public IEnumerable<(Escalation Escalation, string Action)> OwedPages =>
        Escalations.Values.OrderBy(e => e.ChainId.Value)
            .Where(e => e.OwesTrigger || e.OwesResolve)
            .Select(e => (e, e.OwesTrigger ? PageAction.Trigger : PageAction.Resolve));

    public OrchestratorState Apply(IOrchestratorEvent e) => e switch
    {
        TopUpQueued q => this with
        {
            Needs = Needs.SetItem(q.NeedId, new RebalanceNeed(q.NeedId, q.ChainId, q.Wallet, q.Priority, q.Amount, q.Meta.At, Sequence + 1)),
            Sequence = Sequence + 1,
        },
        TopUpSuperseded s => Needs.TryGetValue(s.NeedId, out var old)
            ? this with { Needs = Needs.Remove(s.NeedId).SetItem(s.By, old with { NeedId = s.By, Priority = s.Priority, Amount = s.Amount }) }
            : this,
        TopUpCancelled c => this with { Needs = Needs.Remove(c.NeedId) },
        TopUpStarted s => Update(s.NeedId, n => n with { RequestId = s.RequestId, Attempts = s.Attempt, StartedAt = s.Meta.At, TxHash = null, Amount = s.Amount }),
        TopUpBroadcast b => Update(b.NeedId, n => n with { TxHash = b.TxHash }),
        TopUpSucceeded s => this with { Needs = Needs.Remove(s.NeedId) },
        TopUpFailed f => Update(f.NeedId, n => n with
        {
            RequestId = null, StartedAt = null, TxHash = null, Failures = f.Failures, NextAttemptAt = f.NextAttemptAt, LastError = $"{f.Code}: {f.Reason}",
        }),
        TopUpEscalated x => this with { Escalations = Escalations.SetItem(x.ChainId.Value, new Escalation(x.ChainId, x.DedupKey, x.Summary, x.Meta.At)) },
        TopUpRecovered r => Escalations.TryGetValue(r.ChainId.Value, out var open)
            ? this with
            {
                Escalations = open.TriggerPaged ? Escalations.SetItem(r.ChainId.Value, open with { Recovered = true }) : Escalations.Remove(r.ChainId.Value),
            }
            : this,
        PageSent { Action: PageAction.Trigger } p => this with
        {
            // A trigger delivered after its chain recovered (the page was under way) still owes its resolve.
            Escalations = Escalations.SetItem(p.ChainId.Value, Escalations.TryGetValue(p.ChainId.Value, out var x)
                ? x with { TriggerPaged = true }
                : new Escalation(p.ChainId, p.DedupKey, "recovered while paging", p.Meta.At, TriggerPaged: true, Recovered: true)),
        },
        PageSent { Action: PageAction.Resolve } p => this with { Escalations = Escalations.Remove(p.ChainId.Value) },
        _ => this,
    };

    private OrchestratorState Update(string needId, Func<RebalanceNeed, RebalanceNeed> change) =>
        Needs.TryGetValue(needId, out var need) ? this with { Needs = Needs.SetItem(needId, change(need)) } : this;

    private static Meta Meta(DateTimeOffset now, string reason, string correlation) => Common.Meta.System(Component, reason, now, correlation);

    private static string Bounded(string text) => text.Length <= 300 ? text : text[..300];

    public static string Name(RebalancePriority priority) => priority.ToString().ToLowerInvariant();
}

/// <summary>Builds the treasury's view from the journaled state and the readings (pure).</summary>
public static class TreasuryViews
{
    public static TreasuryView Build(OrchestratorState state, SpendBook book, TreasurySettings settings, DateTimeOffset now, bool vaultConnected)
    {
        var wallets = book.Wallets.OrderBy(w => w.Chain.Value).ThenBy(w => w.Wallet.Value, StringComparer.Ordinal).Select(w =>
        {
            var thresholds = settings.ThresholdsOf(w.Chain.Value);
            var latest = book.Latest(w.Chain, w.Wallet);
            return new WalletView(w.Chain, w.Wallet, latest?.Balance, latest?.At, thresholds, latest is null ? null : thresholds.Classify(latest.Balance),
                book.SpendPerHour(w.Chain, w.Wallet), book.RunwaySeconds(w.Chain, w.Wallet), latest is null ? new Wei(0) : thresholds.SurplusOf(latest.Balance));
        }).ToImmutableList();
        return new TreasuryView(now, wallets, state.Queue.Select(ViewOf).ToImmutableList(), state.InFlight.Select(ViewOf).ToImmutableList(),
            state.Escalations.Values.OrderBy(e => e.ChainId.Value)
                .Select(e => new EscalationView(e.ChainId, e.DedupKey, e.Summary, e.Since, e.TriggerPaged, e.Recovered)).ToImmutableList(),
            vaultConnected);
    }

    private static NeedView ViewOf(RebalanceNeed n) =>
        new(n.NeedId, n.ChainId, n.Wallet, n.Priority, n.Amount, n.QueuedAt, n.Failures, n.NextAttemptAt, n.LastError, n.RequestId, n.StartedAt, n.TxHash);
}
