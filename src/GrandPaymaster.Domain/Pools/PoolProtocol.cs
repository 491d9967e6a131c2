using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Domain.Pools;

/// <summary>Lifecycle of a chain's gas pool.</summary>
public enum PoolStatus
{
    Active,
    SafeMode,
    Paused,
    Disabled,
}

/// <summary>Commands and queries a chain pool entity accepts.</summary>
public static class PoolCommands
{
    /// <summary>Any message handled by a pool entity.</summary>
    public interface IPoolCommand : IWithChainId, IPaymasterMessage;

    /// <summary>Adds a hot wallet to the pool's worker set; registering a known wallet again changes nothing.</summary>
    public sealed record RegisterWorkerWallet(ChainId ChainId, Address Wallet, Meta Meta) : IPoolCommand;

    /// <summary>Asks for the pool's current state; answered with <see cref="PoolState"/>.</summary>
    public sealed record GetPoolState(ChainId ChainId) : IPoolCommand;

    /// <summary>
    /// From a dApp whose fee is held: send this call from a pool wallet. At-least-once: a second request
    /// for the same quote is answered with the first transaction, never a second one.
    /// </summary>
    public sealed record RelayTransaction(ChainId ChainId, QuoteId QuoteId, DappId DappId, Address To, string DataHex, BigInteger GasLimit, Wei MaxFeePerGas)
        : IPoolCommand;
}

/// <summary>Replies a pool entity sends back.</summary>
public static class PoolReplies
{
    /// <summary>Answer to <see cref="PoolCommands.RegisterWorkerWallet"/>; <paramref name="Added"/> is false when it was known.</summary>
    public sealed record WorkerWalletRegistration(ChainId ChainId, Address Wallet, bool Added) : IPaymasterMessage;
}

/// <summary>Events in a chain pool's journal (its audit log).</summary>
public static class PoolEvents
{
    /// <summary>Every pool event says who, when and why.</summary>
    public interface IPoolEvent : IPaymasterMessage
    {
        Meta Meta { get; }
    }

    /// <summary>A hot wallet joined the pool's worker set.</summary>
    public sealed record WorkerWalletRegistered(ChainId ChainId, Address Wallet, Meta Meta) : IPoolEvent;

    /// <summary>
    /// A signed transaction, journaled before it is broadcast so that a crash can never lose a sent
    /// transaction: the raw bytes let recovery broadcast it again.
    /// </summary>
    public sealed record TxSubmitted(ChainId ChainId, QuoteId QuoteId, DappId DappId, Address Wallet, BigInteger Nonce, string TxHash, string RawTx, Meta Meta)
        : IPoolEvent;

    /// <summary>The node refused the transaction; it was never in the mempool and its nonce is free again.</summary>
    public sealed record TxBroadcastFailed(ChainId ChainId, QuoteId QuoteId, string TxHash, Address Wallet, BigInteger Nonce, string Reason, Meta Meta)
        : IPoolEvent;

    /// <summary>The receipt as the chain reported it.</summary>
    public sealed record TxConfirmed(ChainId ChainId, QuoteId QuoteId, DappId DappId, string TxHash, BigInteger GasUsed, Wei EffectiveGasPrice, bool Succeeded,
        BigInteger BlockNumber, Meta Meta) : IPoolEvent;

    /// <summary>
    /// The dApps recorded these settlements; the pool stops re-delivering them. Acknowledgements are
    /// collected for a tick and journaled together: one write instead of one per transaction.
    /// </summary>
    public sealed record SettlementsAcknowledged(ChainId ChainId, IReadOnlyList<QuoteId> QuoteIds, Meta Meta) : IPoolEvent;
}
