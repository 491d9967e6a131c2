using GrandPaymaster.Domain.Common;

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
}
