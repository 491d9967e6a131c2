using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using static GrandPaymaster.Domain.Treasury.VaultEvents;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>The vault's knobs (<c>hocon/vault.hocon</c>, overlaid by <c>Gpm:Vault:Hocon</c>).</summary>
public sealed record VaultPolicy
{
    /// <summary>Limits of a chain not listed in <see cref="Chains"/>.</summary>
    public VaultLimits DefaultLimits { get; init; } = new(new Wei(50 * Wei.PerCoin), new Wei(5 * Wei.PerCoin));

    /// <summary>Limits per chain id (from HOCON); a <c>vault.limit</c> change executed later wins over both.</summary>
    public ImmutableDictionary<long, VaultLimits> Chains { get; init; } = ImmutableDictionary<long, VaultLimits>.Empty;

    /// <summary>M: distinct approvers (other than the proposer) a proposal needs before it is executed.</summary>
    public int ApprovalsRequired { get; init; } = 2;

    /// <summary>How long a proposal can be approved; then it expires (journaled).</summary>
    public TimeSpan ProposalTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Open proposals at most (beyond: <c>proposals_full</c>).</summary>
    public int MaxOpenProposals { get; init; } = 100;

    /// <summary>Open top-ups at most (beyond: <c>vault_busy</c>, retryable).</summary>
    public int MaxOpenTopUps { get; init; } = 1_000;

    /// <summary>Closed top-ups and closed proposals kept in memory each (answers to retried request ids); the journal keeps all.</summary>
    public int RetainClosed { get; init; } = 1_000;

    /// <summary>Registered pool wallets per chain at most.</summary>
    public int MaxPoolWalletsPerChain { get; init; } = 256;

    public VaultLimits LimitsOf(ChainId chainId) => Chains.TryGetValue(chainId.Value, out var limits) ? limits : DefaultLimits;
}

/// <summary>
/// The Vault: pure decisions over pool wallets, top-ups and multi-sig proposals (DESIGN.md §8.2). It pays a pool wallet of the chain
/// automatically within the per-transfer automatic limit and the per-chain daily limit (UTC day; completed and in-flight automatic
/// top-ups count); anything else is a proposal that needs <see cref="VaultPolicy.ApprovalsRequired"/> approvals of distinct approvers
/// other than the proposer before it expires. Every decision, refusals included, is an event. Bounded: open top-ups and open proposals
/// by the policy, and the latest <see cref="VaultPolicy.RetainClosed"/> closed ones of each.
/// </summary>
public sealed record VaultState(
    ImmutableDictionary<long, ImmutableSortedSet<string>> PoolWallets,
    ImmutableDictionary<long, VaultLimits> Limits,
    ImmutableDictionary<long, DailyUsage> Usage,
    ImmutableDictionary<string, VaultTopUp> TopUps,
    ImmutableList<string> ClosedTopUps,
    ImmutableDictionary<string, VaultProposal> Proposals,
    ImmutableList<string> ClosedProposals,
    long ProposalsIssued) : IPaymasterMessage
{
    /// <summary>The request id of a proposal's transfer is this prefix and the proposal id; top-up requests may not use it.</summary>
    public const string ProposalRequestPrefix = "proposal:";

    public const int MaxRequestIdLength = 128;

    public static readonly VaultState Empty = new(
        ImmutableDictionary<long, ImmutableSortedSet<string>>.Empty,
        ImmutableDictionary<long, VaultLimits>.Empty,
        ImmutableDictionary<long, DailyUsage>.Empty,
        ImmutableDictionary<string, VaultTopUp>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableList<string>.Empty,
        ImmutableDictionary<string, VaultProposal>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableList<string>.Empty,
        0);

    public int OpenTopUpCount => TopUps.Count - ClosedTopUps.Count;

    public int OpenProposalCount => Proposals.Count - ClosedProposals.Count;

    public bool IsPoolWallet(ChainId chainId, Address wallet) => PoolWallets.TryGetValue(chainId.Value, out var set) && set.Contains(wallet.Value);

    /// <summary>The chain's limits: a <c>vault.limit</c> change when one was executed, else the policy's.</summary>
    public VaultLimits LimitsOf(ChainId chainId, VaultPolicy policy) => Limits.TryGetValue(chainId.Value, out var set) ? set : policy.LimitsOf(chainId);

    /// <summary>What the chain's automatic top-ups use of <paramref name="day"/> (completed and in flight).</summary>
    public BigInteger UsedOn(ChainId chainId, DateOnly day) => Usage.TryGetValue(chainId.Value, out var u) && u.Day == day ? u.Used : BigInteger.Zero;

    public (PoolWalletRegistration Reply, IPaymasterMessage? Refusal, PoolWalletRegistered? Event) Decide(RegisterPoolWallet command, DateTimeOffset now,
        VaultPolicy policy)
    {
        var reply = new PoolWalletRegistration(command.ChainId, command.Wallet, false);
        if (IsPoolWallet(command.ChainId, command.Wallet)) return (reply, null, null);
        if (PoolWallets.TryGetValue(command.ChainId.Value, out var set) && set.Count >= policy.MaxPoolWalletsPerChain)
            return (reply, new VaultRefused(VaultCodes.PoolWalletsFull, $"Chain {command.ChainId} has its maximum of {policy.MaxPoolWalletsPerChain} pool wallets."), null);
        return (reply with { Added = true }, null, new PoolWalletRegistered(command.ChainId, command.Wallet, command.Meta with { At = now }));
    }

    /// <summary>
    /// A top-up request: a known request id is answered from its record (never paid twice); a new one (or one whose earlier attempt
    /// failed retryably, which proves nothing was paid) is accepted only to a registered pool wallet of the chain, within the automatic
    /// limit and the day's limit. The reply is null while an accepted top-up is not signed yet (the actor answers once it is).
    /// </summary>
    public (IPaymasterMessage? Reply, IVaultEvent? Event) Decide(TopUpRequest command, DateTimeOffset now, VaultPolicy policy, bool vaultHoldsChain)
    {
        if (command.RequestId is { Length: > 0 and <= MaxRequestIdLength } known && TopUps.TryGetValue(known, out var existing)
            && !(existing.Status == TopUpStatus.Failed && existing.Retryable))
            return (ReplyFor(existing), null);

        var meta = command.Meta with { At = now };
        string? code = null, reason = null;
        var limits = LimitsOf(command.ChainId, policy);
        var used = UsedOn(command.ChainId, DateOnly.FromDateTime(now.UtcDateTime));
        if (command.RequestId.Length is 0 or > MaxRequestIdLength || command.RequestId.Any(char.IsControl))
            (code, reason) = (VaultCodes.InvalidRequest, $"A request id has 1–{MaxRequestIdLength} characters.");
        else if (command.RequestId.StartsWith(ProposalRequestPrefix, StringComparison.Ordinal))
            (code, reason) = (VaultCodes.InvalidRequest, $"Request ids starting with '{ProposalRequestPrefix}' belong to proposals.");
        else if (command.Amount.Value.IsZero)
            (code, reason) = (VaultCodes.InvalidRequest, "A top-up moves a positive amount.");
        else if (!vaultHoldsChain)
            (code, reason) = (VaultCodes.UnknownChain, $"The vault holds no wallet on chain {command.ChainId}.");
        else if (!IsPoolWallet(command.ChainId, command.To))
            (code, reason) = (VaultCodes.NotAPoolWallet, $"{command.To} is not a registered pool wallet of chain {command.ChainId}; only a proposal with approvals can pay it.");
        else if (command.Amount.Value > limits.AutoLimit.Value)
            (code, reason) = (VaultCodes.AboveAutoLimit, $"{command.Amount} is above the automatic limit of {limits.AutoLimit} per transfer on chain {command.ChainId}; propose it.");
        else if (used + command.Amount.Value > limits.DailyLimit.Value)
            (code, reason) = (VaultCodes.DailyLimitExceeded,
                $"Chain {command.ChainId} has used {used} of its daily limit of {limits.DailyLimit.Value} wei today (UTC); {command.Amount} does not fit.");
        else if (OpenTopUpCount >= policy.MaxOpenTopUps)
            return (new VaultProtocol.TopUpFailed(command.RequestId, VaultCodes.VaultBusy, $"The vault has {OpenTopUpCount} top-ups in flight; retry later.", Retryable: true), null);

        if (code is not null)
        {
            var refused = new VaultEvents.TopUpRefused(command.RequestId, command.ChainId, command.To, command.Amount, code, reason!, meta);
            return (new VaultProtocol.TopUpFailed(command.RequestId, code, reason!, Retryable: false), refused);
        }

        return (null, new TopUpAccepted(command.RequestId, command.ChainId, command.To, command.Amount, command.Priority, null, meta));
    }

    /// <summary>The latest answer for a top-up; null while it is accepted but not yet signed.</summary>
    public static IPaymasterMessage? ReplyFor(VaultTopUp topUp) => topUp.Status switch
    {
        TopUpStatus.Signed => new TopUpSubmitted(topUp.RequestId, topUp.TxHash!),
        TopUpStatus.Completed => new VaultProtocol.TopUpCompleted(topUp.RequestId, topUp.TxHash!, topUp.Amount),
        TopUpStatus.Failed or TopUpStatus.Refused => new VaultProtocol.TopUpFailed(topUp.RequestId, topUp.Code ?? "failed", topUp.Reason ?? "", topUp.Retryable),
        _ => null,
    };

    public (IPaymasterMessage Reply, ProposalCreated? Event) Decide(ProposeTransfer command, DateTimeOffset now, VaultPolicy policy, bool vaultHoldsChain)
    {
        if (!vaultHoldsChain) return (new VaultRefused(VaultCodes.UnknownChain, $"The vault holds no wallet on chain {command.ChainId}."), null);
        if (command.Amount.Value.IsZero) return (new VaultRefused(VaultCodes.InvalidRequest, "A proposal moves a positive amount."), null);
        if (OpenProposalCount >= policy.MaxOpenProposals)
            return (new VaultRefused(VaultCodes.ProposalsFull, $"The vault holds its maximum of {policy.MaxOpenProposals} open proposals; cancel some first."), null);
        var proposal = new VaultProposal($"vp-{ProposalsIssued + 1}", command.ChainId, command.To, command.Amount, command.Meta.Reason, command.Meta.Actor, now,
            now + policy.ProposalTtl, policy.ApprovalsRequired, ImmutableList<ProposalApproval>.Empty);
        return (proposal, new ProposalCreated(proposal, command.Meta with { At = now }));
    }

    /// <summary>
    /// An approval counts once per distinct approver other than the proposer, while the proposal is open and not past its expiry.
    /// The M-th one executes it in the same write: <see cref="ProposalExecuted"/> and the transfer's <see cref="TopUpAccepted"/>.
    /// An approval that does not count is journaled as <see cref="ProposalApprovalRefused"/> (an unknown proposal is not).
    /// </summary>
    public (IPaymasterMessage Reply, ImmutableArray<IVaultEvent> Events) Decide(ApproveProposal command, DateTimeOffset now)
    {
        if (!Proposals.TryGetValue(command.ProposalId, out var proposal))
            return (new VaultRefused(VaultCodes.NotFound, $"The vault has no proposal {command.ProposalId}."), []);
        var meta = command.Meta with { At = now };
        var who = command.Meta.Actor;
        (string Code, string Message)? refusal = proposal.Status switch
        {
            ProposalStatus.Executed => (VaultCodes.ProposalExecuted, $"{proposal.Id} was executed at {proposal.ClosedAt:O}."),
            ProposalStatus.Cancelled => (VaultCodes.ProposalCancelled, $"{proposal.Id} was cancelled by {proposal.ClosedBy}: {proposal.CloseReason}"),
            ProposalStatus.Expired => (VaultCodes.ProposalExpired, $"{proposal.Id} expired at {proposal.ExpiresAt:O}."),
            _ when now > proposal.ExpiresAt => (VaultCodes.ProposalExpired, $"{proposal.Id} expired at {proposal.ExpiresAt:O}."),
            _ when !command.HoldsApproverRole => (VaultCodes.NotAnApprover, $"{who} does not hold the 'approver' role."),
            _ when who == proposal.ProposedBy => (VaultCodes.ProposerCannotApprove, $"{who} proposed {proposal.Id}; its proposer cannot approve it."),
            _ when proposal.Approvals.Any(a => a.Operator == who) => (VaultCodes.AlreadyApproved, $"{who} has already approved {proposal.Id}; approvals count once per operator."),
            _ => null,
        };
        if (refusal is { } r)
            return (new VaultRefused(r.Code, r.Message), [new ProposalApprovalRefused(proposal.Id, r.Code, meta)]);

        var approved = new ProposalApproved(proposal.Id, who, meta);
        if (proposal.Approvals.Count + 1 < proposal.ApprovalsRequired)
            return (Apply(approved).Proposals[proposal.Id], [approved]);

        var executeMeta = meta with { Reason = $"{proposal.ApprovalsRequired} approvals of {proposal.Id} ({proposal.Reason})" };
        IVaultEvent[] events =
        [
            approved,
            new ProposalExecuted(proposal.Id, proposal.RequestId, executeMeta),
            new TopUpAccepted(proposal.RequestId, proposal.ChainId, proposal.To, proposal.Amount, RebalancePriority.Normal, proposal.Id, executeMeta),
        ];
        var after = events.Aggregate(this, (s, e) => s.Apply(e));
        return (after.Proposals[proposal.Id], [.. events]);
    }

    public (IPaymasterMessage Reply, ProposalCancelled? Event) Decide(CancelProposal command, DateTimeOffset now)
    {
        if (!Proposals.TryGetValue(command.ProposalId, out var proposal))
            return (new VaultRefused(VaultCodes.NotFound, $"The vault has no proposal {command.ProposalId}."), null);
        if (proposal.Status != ProposalStatus.Open)
            return (new VaultRefused(proposal.Status switch
            {
                ProposalStatus.Executed => VaultCodes.ProposalExecuted,
                ProposalStatus.Cancelled => VaultCodes.ProposalCancelled,
                _ => VaultCodes.ProposalExpired,
            }, $"{proposal.Id} is {proposal.Status.ToString().ToLowerInvariant()}."), null);
        var cancelled = new ProposalCancelled(proposal.Id, command.Meta with { At = now });
        return (Apply(cancelled).Proposals[proposal.Id], cancelled);
    }

    public (IPaymasterMessage Reply, VaultLimitsSet? Event) Decide(SetVaultLimits command, DateTimeOffset now, VaultPolicy policy)
    {
        var current = LimitsOf(command.ChainId, policy);
        var next = new VaultLimits(command.DailyLimit ?? current.DailyLimit, command.AutoLimit ?? current.AutoLimit);
        if (next == current) return (next.ToView(command.ChainId), null);
        return (next.ToView(command.ChainId), new VaultLimitsSet(command.ChainId, next.DailyLimit, next.AutoLimit, command.Meta with { At = now }));
    }

    /// <summary>Open proposals past their expiry, to be expired by an event each.</summary>
    public IEnumerable<VaultProposal> ExpiredAt(DateTimeOffset now) =>
        Proposals.Values.Where(p => p.Status == ProposalStatus.Open && now > p.ExpiresAt).OrderBy(p => p.ExpiresAt).ThenBy(p => p.Id.Length)
            .ThenBy(p => p.Id, StringComparer.Ordinal);

    /// <summary>Kept proposals in the order they were made, optionally of one status.</summary>
    public ImmutableList<VaultProposal> ListProposals(ProposalStatus? status) =>
        Proposals.Values.Where(p => status is null || p.Status == status).OrderBy(p => p.ProposedAt).ThenBy(p => p.Id.Length)
            .ThenBy(p => p.Id, StringComparer.Ordinal).ToImmutableList();

    /// <summary>Open top-ups of a chain in the order they were accepted.</summary>
    public IEnumerable<VaultTopUp> OpenTopUps(ChainId chainId) =>
        TopUps.Values.Where(t => t.IsOpen && t.ChainId == chainId).OrderBy(t => t.AcceptedAt).ThenBy(t => t.RequestId, StringComparer.Ordinal);

    public VaultChainView View(ChainId chainId, Address? vaultAddress, VaultPolicy policy, DateTimeOffset now)
    {
        var limits = LimitsOf(chainId, policy);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var wallets = PoolWallets.TryGetValue(chainId.Value, out var set) ? set.Select(Address.Parse).ToImmutableList() : ImmutableList<Address>.Empty;
        return new VaultChainView(chainId, vaultAddress, limits.DailyLimit, limits.AutoLimit, new Wei(UsedOn(chainId, day)), day, wallets,
            TopUps.Values.Count(t => t.IsOpen && t.ChainId == chainId));
    }

    public VaultState Apply(IVaultEvent @event) => @event switch
    {
        PoolWalletRegistered e => this with
        {
            PoolWallets = PoolWallets.SetItem(e.ChainId.Value,
                (PoolWallets.TryGetValue(e.ChainId.Value, out var set) ? set : ImmutableSortedSet.Create<string>(StringComparer.Ordinal)).Add(e.Wallet.Value)),
        },
        TopUpAccepted e => Accepted(e),
        VaultEvents.TopUpRefused e => CloseTopUp(new VaultTopUp(e.RequestId, e.ChainId, e.To, e.Amount, RebalancePriority.Normal, null, e.Meta.Actor, e.Meta.At,
            TopUpStatus.Refused, Code: e.Code, Reason: e.Reason, ClosedAt: e.Meta.At), reopenedFrom: TopUps.GetValueOrDefault(e.RequestId)),
        TopUpSigned e => ChangeTopUp(e.RequestId, t => t with
        {
            Status = TopUpStatus.Signed, Nonce = e.Nonce, TxHash = e.TxHash, RawTx = e.RawTx, SignedAt = e.Meta.At, Signatures = t.Signatures + 1,
        }),
        TopUpNonceLost e => ChangeTopUp(e.RequestId, t => t with { Status = TopUpStatus.Accepted, Nonce = null, TxHash = null, RawTx = null }),
        VaultEvents.TopUpCompleted e => TopUps.TryGetValue(e.RequestId, out var done)
            ? CloseTopUp(done with { Status = TopUpStatus.Completed, TxHash = e.TxHash, BlockNumber = e.BlockNumber, ClosedAt = e.Meta.At }, done)
            : this,
        VaultEvents.TopUpFailed e => TopUps.TryGetValue(e.RequestId, out var failed) ? Failed(failed, e) : this,
        ProposalCreated e => this with { Proposals = Proposals.SetItem(e.Proposal.Id, e.Proposal), ProposalsIssued = ProposalsIssued + 1 },
        ProposalApproved e => ChangeProposal(e.ProposalId, p => p with { Approvals = p.Approvals.Add(new ProposalApproval(e.Approver, e.Meta.At, e.Meta.Reason)) }),
        ProposalApprovalRefused => this,
        ProposalExecuted e => CloseProposal(e.ProposalId, p => p with { Status = ProposalStatus.Executed, ClosedBy = e.Meta.Actor, ClosedAt = e.Meta.At }),
        ProposalCancelled e => CloseProposal(e.ProposalId, p => p with
        {
            Status = ProposalStatus.Cancelled, ClosedBy = e.Meta.Actor, ClosedAt = e.Meta.At, CloseReason = e.Meta.Reason,
        }),
        ProposalExpired e => CloseProposal(e.ProposalId, p => p with { Status = ProposalStatus.Expired, ClosedBy = e.Meta.Actor, ClosedAt = e.Meta.At }),
        VaultLimitsSet e => this with { Limits = Limits.SetItem(e.ChainId.Value, new VaultLimits(e.DailyLimit, e.AutoLimit)) },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Not a vault event."),
    };

    /// <summary>Equality by contents (immutable collections compare by reference), so a recovered state compares equal to the live one.</summary>
    public bool Equals(VaultState? other) =>
        other is not null && ProposalsIssued == other.ProposalsIssued
        && ClosedTopUps.SequenceEqual(other.ClosedTopUps) && ClosedProposals.SequenceEqual(other.ClosedProposals)
        && Same(TopUps, other.TopUps, (a, b) => a == b)
        && Same(Proposals, other.Proposals, (a, b) => a with { Approvals = [] } == b with { Approvals = [] } && a.Approvals.SequenceEqual(b.Approvals))
        && Same(Limits, other.Limits, (a, b) => a == b) && Same(Usage, other.Usage, (a, b) => a == b)
        && Same(PoolWallets, other.PoolWallets, (a, b) => a.SequenceEqual(b));

    public override int GetHashCode() => HashCode.Combine(ProposalsIssued, TopUps.Count, Proposals.Count);

    private static bool Same<TKey, TValue>(ImmutableDictionary<TKey, TValue> a, ImmutableDictionary<TKey, TValue> b, Func<TValue, TValue, bool> equal) where TKey : notnull =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && equal(kv.Value, v));

    private VaultState Accepted(TopUpAccepted e)
    {
        var previous = TopUps.GetValueOrDefault(e.RequestId);
        var topUp = new VaultTopUp(e.RequestId, e.ChainId, e.To, e.Amount, e.Priority, e.ProposalId, e.Meta.Actor, e.Meta.At, TopUpStatus.Accepted);
        var closed = previous is { IsOpen: false } ? ClosedTopUps.Remove(e.RequestId) : ClosedTopUps;
        var state = this with { TopUps = TopUps.SetItem(e.RequestId, topUp), ClosedTopUps = closed };
        if (!topUp.Automatic) return state;
        var day = DateOnly.FromDateTime(e.Meta.At.UtcDateTime);
        return state with { Usage = Usage.SetItem(e.ChainId.Value, new DailyUsage(day, UsedOn(e.ChainId, day) + e.Amount.Value)) };
    }

    private VaultState Failed(VaultTopUp topUp, VaultEvents.TopUpFailed e)
    {
        var state = CloseTopUp(topUp with { Status = TopUpStatus.Failed, Code = e.Code, Reason = e.Reason, Retryable = e.Retryable, ClosedAt = e.Meta.At }, topUp);
        if (!topUp.IsOpen || !topUp.Automatic) return state;
        // Nothing was paid: the amount no longer counts against the day it was accepted on (if that day is still the one kept).
        var day = DateOnly.FromDateTime(topUp.AcceptedAt.UtcDateTime);
        return Usage.TryGetValue(topUp.ChainId.Value, out var usage) && usage.Day == day
            ? state with { Usage = state.Usage.SetItem(topUp.ChainId.Value, usage with { Used = BigInteger.Max(BigInteger.Zero, usage.Used - topUp.Amount.Value) }) }
            : state;
    }

    private VaultState ChangeTopUp(string id, Func<VaultTopUp, VaultTopUp> change) =>
        TopUps.TryGetValue(id, out var current) ? this with { TopUps = TopUps.SetItem(id, change(current)) } : this;

    /// <summary>Closes a top-up (once in the order of closing) and forgets the oldest closed ones beyond the bound.</summary>
    private VaultState CloseTopUp(VaultTopUp closed, VaultTopUp? reopenedFrom)
    {
        var order = reopenedFrom is { IsOpen: false } ? ClosedTopUps.Remove(closed.RequestId) : ClosedTopUps;
        var topUps = TopUps.SetItem(closed.RequestId, closed);
        order = order.Add(closed.RequestId);
        while (order.Count > RetainedClosed)
        {
            topUps = topUps.Remove(order[0]);
            order = order.RemoveAt(0);
        }

        return this with { TopUps = topUps, ClosedTopUps = order };
    }

    private VaultState ChangeProposal(string id, Func<VaultProposal, VaultProposal> change) =>
        Proposals.TryGetValue(id, out var current) ? this with { Proposals = Proposals.SetItem(id, change(current)) } : this;

    private VaultState CloseProposal(string id, Func<VaultProposal, VaultProposal> change)
    {
        if (!Proposals.TryGetValue(id, out var current)) return this;
        var proposals = Proposals.SetItem(id, change(current));
        var order = current.Status == ProposalStatus.Open ? ClosedProposals.Add(id) : ClosedProposals;
        while (order.Count > RetainedClosed)
        {
            proposals = proposals.Remove(order[0]);
            order = order.RemoveAt(0);
        }

        return this with { Proposals = proposals, ClosedProposals = order };
    }

    /// <summary>Closed top-ups and proposals kept in memory each (the journal keeps every one).</summary>
    public int RetainedClosed { get; init; } = 1_000;
}

/// <summary>Small views of the vault's records.</summary>
public static class VaultViews
{
    /// <summary>A chain's limits as the answer to <see cref="VaultProtocol.SetVaultLimits"/>.</summary>
    public static VaultProtocol.VaultView ToView(this VaultLimits limits, ChainId chainId) =>
        new([new VaultProtocol.VaultChainView(chainId, null, limits.DailyLimit, limits.AutoLimit, new Wei(0), default, ImmutableList<Address>.Empty, 0)]);
}
