using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Pools;

/// <summary>
/// The gas pool of one chain: its status and its worker wallets. Pure: <see cref="Handle"/> decides,
/// <see cref="Apply"/> folds an event, and neither does I/O.
/// </summary>
public sealed record PoolState(
    ChainId ChainId,
    PoolStatus Status,
    ImmutableList<Address> Workers,
    ImmutableDictionary<QuoteId, TxSubmitted> InFlight,
    ImmutableDictionary<QuoteId, TxConfirmed> AwaitingAck,
    ImmutableDictionary<QuoteId, TxSubmitted> Relayed) : IPaymasterMessage
{
    public static PoolState Empty(ChainId chainId) => new(chainId, PoolStatus.Active, ImmutableList<Address>.Empty,
        ImmutableDictionary<QuoteId, TxSubmitted>.Empty, ImmutableDictionary<QuoteId, TxConfirmed>.Empty, ImmutableDictionary<QuoteId, TxSubmitted>.Empty);

    public (PoolReplies.WorkerWalletRegistration Reply, IReadOnlyList<IPoolEvent> Events) Handle(RegisterWorkerWallet command)
    {
        if (command.ChainId != ChainId)
            throw new ArgumentException($"Command for chain {command.ChainId} reached the pool of chain {ChainId}.", nameof(command));
        if (Workers.Contains(command.Wallet))
            return (new PoolReplies.WorkerWalletRegistration(ChainId, command.Wallet, Added: false), []);
        return (new PoolReplies.WorkerWalletRegistration(ChainId, command.Wallet, Added: true),
            [new WorkerWalletRegistered(ChainId, command.Wallet, command.Meta)]);
    }

    public PoolState Apply(IPoolEvent @event) => @event switch
    {
        WorkerWalletRegistered e when !Workers.Contains(e.Wallet) => this with { Workers = Workers.Add(e.Wallet) },
        WorkerWalletRegistered => this,
        TxSubmitted e => this with { InFlight = InFlight.SetItem(e.QuoteId, e), Relayed = Relayed.SetItem(e.QuoteId, e) },
        TxBroadcastFailed e => this with { InFlight = InFlight.Remove(e.QuoteId), Relayed = Relayed.Remove(e.QuoteId) },
        TxConfirmed e => this with { InFlight = InFlight.Remove(e.QuoteId), AwaitingAck = AwaitingAck.SetItem(e.QuoteId, e) },
        // Settled and acknowledged: the dApp will never ask to relay these quotes again.
        SettlementsAcknowledged e => this with { AwaitingAck = AwaitingAck.RemoveRange(e.QuoteIds), Relayed = Relayed.RemoveRange(e.QuoteIds) },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Unknown pool event."),
    };

    /// <summary>Equality over contents, so a recovered state compares equal to the one it was saved from.</summary>
    public bool Equals(PoolState? other) =>
        other is not null && ChainId == other.ChainId && Status == other.Status && Workers.SequenceEqual(other.Workers)
        && SameEntries(InFlight, other.InFlight) && SameEntries(AwaitingAck, other.AwaitingAck) && SameEntries(Relayed, other.Relayed);

    private static bool SameEntries<TValue>(ImmutableDictionary<QuoteId, TValue> a, ImmutableDictionary<QuoteId, TValue> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && EqualityComparer<TValue>.Default.Equals(kv.Value, v));

    public override int GetHashCode() => HashCode.Combine(ChainId, Status, Workers.Count);
}
