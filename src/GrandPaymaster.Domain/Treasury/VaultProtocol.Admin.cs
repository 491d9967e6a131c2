using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>The stable codes of the Vault's refusals (problem+json <c>code</c> at the edge, <c>TopUpFailed.Code</c> for top-ups).</summary>
public static class VaultCodes
{
    /// <summary>The destination of a top-up is not a registered pool wallet of that chain: isolation (a pool cannot make the vault pay anyone else).</summary>
    public const string NotAPoolWallet = "not_a_pool_wallet";

    /// <summary>The chain's automatic top-ups of this UTC day (completed and in flight) plus this one would pass the daily limit.</summary>
    public const string DailyLimitExceeded = "daily_limit_exceeded";

    /// <summary>Above the per-transfer automatic limit: only a multi-sig proposal can move that much.</summary>
    public const string AboveAutoLimit = "above_auto_limit";

    /// <summary>This node holds no vault key for the chain.</summary>
    public const string UnknownChain = "unknown_chain";

    public const string InvalidRequest = "invalid_request";

    /// <summary>Too many top-ups in flight (bounded); retryable.</summary>
    public const string VaultBusy = "vault_busy";

    /// <summary>The chain could not be asked for the vault's nonce or fees before signing; nothing was signed; retryable.</summary>
    public const string VaultRpcDown = "vault_rpc_down";

    /// <summary>The node refused the signed transfer in a way that proves it is never mined (before any node accepted it); retryable.</summary>
    public const string TransferRefused = "transfer_refused";

    /// <summary>The transfer was mined but reverted (a contract destination that refuses coins): nothing moved.</summary>
    public const string TransferReverted = "transfer_reverted";

    public const string NotFound = "not_found";
    public const string ProposerCannotApprove = "proposer_cannot_approve";
    public const string AlreadyApproved = "already_approved";
    public const string ProposalExpired = "proposal_expired";
    public const string ProposalCancelled = "proposal_cancelled";
    public const string ProposalExecuted = "proposal_executed";
    public const string NotAnApprover = "not_an_approver";

    /// <summary>The bound of open proposals is reached (409).</summary>
    public const string ProposalsFull = "proposals_full";

    /// <summary>The bound of registered pool wallets of a chain is reached.</summary>
    public const string PoolWalletsFull = "pool_wallets_full";
}

/// <summary>Where a multi-sig proposal is.</summary>
public enum ProposalStatus
{
    Open,
    Executed,
    Cancelled,
    Expired,
}

/// <summary>One approval of a proposal: a distinct operator holding <c>approver</c>, other than the proposer.</summary>
public sealed record ProposalApproval(string Operator, DateTimeOffset At, string Reason);

/// <summary>
/// A vault movement that needs M approvals (DESIGN.md §2, issue 11 point 4): to an address that is not a registered pool wallet, or
/// above the automatic limit. Executed (as a top-up whose request id is <see cref="RequestId"/>) only after the M-th approval of
/// distinct approvers other than the proposer, before <see cref="ExpiresAt"/>, unless cancelled.
/// </summary>
public sealed record VaultProposal(
    string Id,
    ChainId ChainId,
    Address To,
    Wei Amount,
    string Reason,
    string ProposedBy,
    DateTimeOffset ProposedAt,
    DateTimeOffset ExpiresAt,
    int ApprovalsRequired,
    ImmutableList<ProposalApproval> Approvals,
    ProposalStatus Status = ProposalStatus.Open,
    string? ClosedBy = null,
    DateTimeOffset? ClosedAt = null,
    string? CloseReason = null) : IPaymasterMessage
{
    /// <summary>The top-up request id the proposal's transfer goes out under once executed (idempotent per proposal).</summary>
    public string RequestId => VaultState.ProposalRequestPrefix + Id;
}

/// <summary>Where a top-up is: accepted (counted in the day), signed and journaled (broadcast, watched), or closed.</summary>
public enum TopUpStatus
{
    Accepted,
    Signed,
    Completed,
    Failed,
    Refused,
}

/// <summary>
/// One transfer from the vault: an automatic top-up of a pool wallet, or an executed proposal. Once <see cref="TxHash"/> is set the
/// signed transaction (<see cref="RawTx"/>, at <see cref="Nonce"/>) is the only one for this request unless the chain proves the nonce
/// was taken by another transaction.
/// </summary>
public sealed record VaultTopUp(
    string RequestId,
    ChainId ChainId,
    Address To,
    Wei Amount,
    RebalancePriority Priority,
    string? ProposalId,
    string RequestedBy,
    DateTimeOffset AcceptedAt,
    TopUpStatus Status,
    BigInteger? Nonce = null,
    string? TxHash = null,
    string? RawTx = null,
    DateTimeOffset? SignedAt = null,
    int Signatures = 0,
    BigInteger? BlockNumber = null,
    string? Code = null,
    string? Reason = null,
    bool Retryable = false,
    DateTimeOffset? ClosedAt = null)
{
    public bool IsOpen => Status is TopUpStatus.Accepted or TopUpStatus.Signed;

    /// <summary>Counted against the chain's daily limit (automatic top-ups; a proposal's transfer was approved by people instead).</summary>
    public bool Automatic => ProposalId is null;
}

/// <summary>The vault's per-chain limits in wei: per UTC day of automatic top-ups, and per automatic transfer.</summary>
public sealed record VaultLimits(Wei DailyLimit, Wei AutoLimit);

/// <summary>What the automatic top-ups of a chain used on one UTC day (completed and in flight).</summary>
public sealed record DailyUsage(DateOnly Day, BigInteger Used);

/// <summary>
/// The Vault's own protocol besides top-ups: pool wallets it may pay, multi-sig proposals and approvals, limits, views.
/// </summary>
public static partial class VaultProtocol
{
    /// <summary>The node's key source tells the vault which pool wallets it may top up (journaled once per wallet, <c>system:bootstrap</c>).</summary>
    public sealed record RegisterPoolWallet(ChainId ChainId, Address Wallet, Meta Meta) : IVaultCommand;

    public sealed record PoolWalletRegistration(ChainId ChainId, Address Wallet, bool Added) : IPaymasterMessage;

    /// <summary>An operator proposes a movement (any destination, any amount); answered with the <see cref="VaultProposal"/>.</summary>
    public sealed record ProposeTransfer(ChainId ChainId, Address To, Wei Amount, Meta Meta) : IVaultCommand;

    /// <summary>
    /// An operator approves (<c>Meta.Actor</c>); <paramref name="HoldsApproverRole"/> is what the edge knows of its roles (the route
    /// already requires <c>approver</c>; the vault checks again).
    /// </summary>
    public sealed record ApproveProposal(string ProposalId, bool HoldsApproverRole, Meta Meta) : IVaultCommand;

    public sealed record CancelProposal(string ProposalId, Meta Meta) : IVaultCommand;

    /// <summary>The proposals the vault keeps (all open ones, the latest closed ones), optionally of one status.</summary>
    public sealed record GetProposals(ProposalStatus? Status) : IVaultCommand;

    public sealed record ProposalList(ImmutableList<VaultProposal> Items) : IPaymasterMessage;

    /// <summary>Sets a chain's limits (the <c>vault.limit</c> timelocked change); a null limit keeps the current one.</summary>
    public sealed record SetVaultLimits(ChainId ChainId, Wei? DailyLimit, Wei? AutoLimit, Meta Meta) : IVaultCommand;

    /// <summary>Every chain the vault holds a key for: address, limits, today's use, pool wallets.</summary>
    public sealed record GetVault : IVaultCommand;

    public sealed record VaultView(ImmutableList<VaultChainView> Chains) : IPaymasterMessage;

    public sealed record VaultChainView(ChainId ChainId, Address? VaultAddress, Wei DailyLimit, Wei AutoLimit, Wei DailyUsed, DateOnly Day,
        ImmutableList<Address> PoolWallets, int OpenTopUps);

    /// <summary>A refusal with a stable code (<see cref="VaultCodes"/>).</summary>
    public sealed record VaultRefused(string Code, string Message) : IPaymasterMessage;
}

/// <summary>Every change of the Vault is one of these events, with who, when and why (its journal, persistence id <c>vault</c>, is the audit log).</summary>
public static class VaultEvents
{
    public interface IVaultEvent : IPaymasterMessage
    {
        Meta Meta { get; }
    }

    public sealed record PoolWalletRegistered(ChainId ChainId, Address Wallet, Meta Meta) : IVaultEvent;

    /// <summary>A top-up within the rules (or an executed proposal's transfer): counted in the day from now on.</summary>
    public sealed record TopUpAccepted(string RequestId, ChainId ChainId, Address To, Wei Amount, RebalancePriority Priority, string? ProposalId, Meta Meta)
        : IVaultEvent;

    /// <summary>A top-up the vault refused (not a pool wallet, over a limit, invalid): the attempt itself is in the journal.</summary>
    public sealed record TopUpRefused(string RequestId, ChainId ChainId, Address To, Wei Amount, string Code, string Reason, Meta Meta) : IVaultEvent;

    /// <summary>Written before the transaction is broadcast: after a crash the same bytes are broadcast again, never a second transaction.</summary>
    public sealed record TopUpSigned(string RequestId, BigInteger Nonce, string TxHash, string RawTx, Meta Meta) : IVaultEvent;

    /// <summary>The chain shows the signed transaction's nonce taken by another transaction at the confirmation depth: it can never be mined.</summary>
    public sealed record TopUpNonceLost(string RequestId, string TxHash, Meta Meta) : IVaultEvent;

    /// <summary>Mined and final at the chain's confirmation depth.</summary>
    public sealed record TopUpCompleted(string RequestId, string TxHash, BigInteger BlockNumber, Meta Meta) : IVaultEvent;

    /// <summary>Nothing was paid and nothing will be (see <see cref="VaultCodes"/>); the day's use is given back.</summary>
    public sealed record TopUpFailed(string RequestId, string Code, string Reason, bool Retryable, Meta Meta) : IVaultEvent;

    public sealed record ProposalCreated(VaultProposal Proposal, Meta Meta) : IVaultEvent;

    public sealed record ProposalApproved(string ProposalId, string Approver, Meta Meta) : IVaultEvent;

    /// <summary>An approval that did not count (the proposer's own, a second one of one operator, expired, closed, not an approver).</summary>
    public sealed record ProposalApprovalRefused(string ProposalId, string Code, Meta Meta) : IVaultEvent;

    /// <summary>The M-th approval: the proposal's transfer is accepted under <paramref name="RequestId"/>.</summary>
    public sealed record ProposalExecuted(string ProposalId, string RequestId, Meta Meta) : IVaultEvent;

    public sealed record ProposalCancelled(string ProposalId, Meta Meta) : IVaultEvent;

    /// <summary>Not approved in time (<c>system:vault</c>).</summary>
    public sealed record ProposalExpired(string ProposalId, Meta Meta) : IVaultEvent;

    /// <summary>A chain's limits from now on (the <c>vault.limit</c> timelocked change).</summary>
    public sealed record VaultLimitsSet(ChainId ChainId, Wei DailyLimit, Wei AutoLimit, Meta Meta) : IVaultEvent;
}
