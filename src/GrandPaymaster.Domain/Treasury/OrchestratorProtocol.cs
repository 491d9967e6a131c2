using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>A message the rebalance mailbox orders by its <see cref="Priority"/> (every other message goes first).</summary>
public interface IRebalanceWork
{
    RebalancePriority Priority { get; }
}

/// <summary>
/// What the Orchestrator is told and answers (commands, replies, the pools' hint) and what it journals (events, each with
/// <see cref="Meta"/> of <c>system:orchestrator</c>).
/// </summary>
public static class OrchestratorProtocol
{
    public interface IOrchestratorCommand : IPaymasterMessage;

    public interface IOrchestratorEvent : IPaymasterMessage
    {
        Meta Meta { get; }
    }

    /// <summary>
    /// A pool wallet's balance as read from its chain, with the urgency its thresholds give it (Normal when none is needed: a
    /// reading is still work of the lowest priority). The rebalance mailbox serves a Critical reading before queued Normal ones.
    /// </summary>
    public sealed record BalanceObserved(ChainId ChainId, Address Wallet, Wei Balance, DateTimeOffset At, RebalancePriority Priority)
        : IOrchestratorCommand, IRebalanceWork;

    /// <summary>A pool confirmed a batch of transactions: its wallets' balances changed (read them again).</summary>
    public sealed record PoolBalanceChanged(ChainId ChainId) : IPaymasterMessage;

    /// <summary>Asks for the treasury's view (balances, thresholds, spend rates, runways, the queue, the top-ups in flight).</summary>
    public sealed record GetTreasury : IOrchestratorCommand
    {
        public static readonly GetTreasury Instance = new();
    }

    /// <summary>One pool wallet as the Orchestrator sees it.</summary>
    public sealed record WalletView(
        ChainId ChainId,
        Address Wallet,
        Wei? Balance,
        DateTimeOffset? ReadAt,
        WalletThresholds Thresholds,
        RebalancePriority? Need,
        Wei? SpendPerHour,
        double? RunwaySeconds,
        Wei Surplus);

    /// <summary>A queued or running top-up.</summary>
    public sealed record NeedView(
        string NeedId,
        ChainId ChainId,
        Address Wallet,
        RebalancePriority Priority,
        Wei Amount,
        DateTimeOffset QueuedAt,
        int Failures,
        DateTimeOffset? NextAttemptAt,
        string? LastError,
        string? RequestId,
        DateTimeOffset? StartedAt,
        string? TxHash);

    /// <summary>An open escalation of a chain whose top-ups keep failing (paged once, resolved once).</summary>
    public sealed record EscalationView(ChainId ChainId, string DedupKey, string Summary, DateTimeOffset Since, bool TriggerPaged, bool Recovered);

    /// <summary>The answer to <see cref="GetTreasury"/>; also what the Orchestrator publishes for the metrics after each change.</summary>
    public sealed record TreasuryView(
        DateTimeOffset At,
        ImmutableList<WalletView> Wallets,
        ImmutableList<NeedView> Queue,
        ImmutableList<NeedView> InFlight,
        ImmutableList<EscalationView> Escalations,
        bool VaultConnected) : IPaymasterMessage
    {
        /// <summary>A chain's runway: the shortest of its wallets' (null: none is spending).</summary>
        public double? RunwayOf(ChainId chain) =>
            Wallets.Where(w => w.ChainId == chain && w.RunwaySeconds is not null).Select(w => w.RunwaySeconds).Min();
    }

    /// <summary>A top-up is needed: the wallet's balance is below a threshold (the amount fills it to target at that reading).</summary>
    public sealed record TopUpQueued(string NeedId, ChainId ChainId, Address Wallet, RebalancePriority Priority, Wei Amount, Wei Balance, Meta Meta)
        : IOrchestratorEvent;

    /// <summary>
    /// A queued need is replaced by a more urgent one for the same wallet, <paramref name="By"/>: it keeps the old one's place in
    /// arrival order, failures and backoff, and is served before every queued less urgent need.
    /// </summary>
    public sealed record TopUpSuperseded(string NeedId, string By, RebalancePriority Priority, Wei Amount, Wei Balance, Meta Meta) : IOrchestratorEvent;

    /// <summary>A queued need is no longer needed: the wallet is back above its level without a top-up.</summary>
    public sealed record TopUpCancelled(string NeedId, Meta Meta) : IOrchestratorEvent;

    /// <summary>
    /// A top-up is requested from the Vault under <paramref name="RequestId"/> (journaled before the request is sent, so after a
    /// crash the Orchestrator asks about this id instead of requesting again).
    /// </summary>
    public sealed record TopUpStarted(string NeedId, string RequestId, Wei Amount, int Attempt, Meta Meta) : IOrchestratorEvent;

    /// <summary>The Vault signed and broadcast the transfer.</summary>
    public sealed record TopUpBroadcast(string NeedId, string RequestId, string TxHash, Meta Meta) : IOrchestratorEvent;

    /// <summary>The transfer is mined and final: the need is met.</summary>
    public sealed record TopUpSucceeded(string NeedId, string RequestId, string TxHash, Wei Amount, Meta Meta) : IOrchestratorEvent;

    /// <summary>Nothing was paid for this request; the need is tried again at <paramref name="NextAttemptAt"/>.</summary>
    public sealed record TopUpFailed(string NeedId, string RequestId, string Code, string Reason, bool Retryable, int Failures, DateTimeOffset NextAttemptAt,
        Meta Meta) : IOrchestratorEvent;

    /// <summary>A chain's top-ups failed <c>page-after-failures</c> times: a page and a <c>topup_failing</c> alert are owed.</summary>
    public sealed record TopUpEscalated(ChainId ChainId, string DedupKey, string Summary, Meta Meta) : IOrchestratorEvent;

    /// <summary>The escalated chain is healthy again (a top-up succeeded, no need of it is failing): a resolve is owed if a trigger was paged.</summary>
    public sealed record TopUpRecovered(ChainId ChainId, Meta Meta) : IOrchestratorEvent;

    /// <summary>The pager took the <paramref name="Action"/> (<c>trigger</c> / <c>resolve</c>) of a chain's escalation.</summary>
    public sealed record PageSent(ChainId ChainId, string Action, string DedupKey, Meta Meta) : IOrchestratorEvent;
}
