using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Treasury;

/// <summary>How urgent a pool wallet's rebalance is; the Orchestrator's mailbox serves them in this order.</summary>
public enum RebalancePriority
{
    /// <summary>The wallet's balance is below its minimum: relays may fail soon.</summary>
    Critical,

    /// <summary>Below the warning level.</summary>
    Warning,

    /// <summary>Periodic top-up to target, or surplus returned to the vault.</summary>
    Normal,
}

/// <summary>
/// What the Orchestrator and the pools say to the Vault, and the Vault's answers (the Vault's own protocol — proposals, approvals —
/// lives with its state). The Vault pays only registered pool wallets of the chain, within a daily limit; a request id is paid at
/// most once, whatever is retried.
/// </summary>
public static partial class VaultProtocol
{
    public interface IVaultCommand : IPaymasterMessage;

    /// <summary>Pays <paramref name="Amount"/> to the pool wallet <paramref name="To"/> of <paramref name="ChainId"/>; idempotent per <paramref name="RequestId"/>.</summary>
    public sealed record TopUpRequest(string RequestId, ChainId ChainId, Address To, Wei Amount, RebalancePriority Priority, Meta Meta) : IVaultCommand;

    /// <summary>Asks where a request stands (the Orchestrator after a failover); answered with the latest of the replies below.</summary>
    public sealed record GetTopUp(string RequestId) : IVaultCommand;

    /// <summary>The transfer is signed and journaled, and broadcast (or being rebroadcast); the receipt is awaited.</summary>
    public sealed record TopUpSubmitted(string RequestId, string TxHash) : IPaymasterMessage;

    /// <summary>The transfer is mined and final at the chain's confirmation depth.</summary>
    public sealed record TopUpCompleted(string RequestId, string TxHash, Wei Amount) : IPaymasterMessage;

    /// <summary>
    /// Nothing was paid for this request and nothing will be: refused (<paramref name="Retryable"/> false: not a pool wallet, over
    /// the daily limit, unknown chain) or failed before any transfer could be sent (true: the vault's RPC is down).
    /// </summary>
    public sealed record TopUpFailed(string RequestId, string Code, string Reason, bool Retryable) : IPaymasterMessage;

    /// <summary>No such request is known to the Vault.</summary>
    public sealed record TopUpUnknown(string RequestId) : IPaymasterMessage;
}
