using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using static GrandPaymaster.Domain.Pools.PoolCommands;

namespace GrandPaymaster.Domain.Pools;

/// <summary>
/// The workers' window (<see cref="PoolPolicy.MaxInFlightPerWorker"/>): a relay ready to be signed while every synced
/// worker is full waits in a first-in, first-out queue (in memory: the dApps ask again after a restart) and is signed as
/// soon as a worker's transaction is final. The node's txpool so holds a bounded number of the pool's transactions
/// however far the chain falls behind, and the backlog waits here, where it costs nothing and can still be released.
/// </summary>
public sealed partial record PoolState
{
    /// <summary>Relays waiting for a worker slot, at most; beyond, a relay is not taken (its dApp asks again).</summary>
    public const int MaxQueuedForSlot = 10_000;

    /// <summary>The order in which queued relays get a worker slot (transient; may hold ids already released).</summary>
    public ImmutableQueue<QuoteId> SlotQueue { get; init; } = ImmutableQueue<QuoteId>.Empty;

    /// <summary>Relays waiting for a worker slot (transient).</summary>
    public ImmutableDictionary<QuoteId, RelayTransaction> QueuedForSlot { get; init; } = ImmutableDictionary<QuoteId, RelayTransaction>.Empty;

    private PoolStep QueueForSlot(RelayTransaction relay)
    {
        if (QueuedForSlot.ContainsKey(relay.QuoteId) || QueuedForSlot.Count >= MaxQueuedForSlot) return Nothing;
        return new PoolStep(this with { SlotQueue = SlotQueue.Enqueue(relay.QuoteId), QueuedForSlot = QueuedForSlot.Add(relay.QuoteId, relay) }, [], []);
    }

    /// <summary>
    /// The oldest queued relay, if a worker has room: signed, or — closed meanwhile, or a forwarded request whose deadline
    /// passed while it waited — taken out of the queue. The host calls this until the queue stops shrinking.
    /// </summary>
    public PoolStep NextFromSlotQueue(DateTimeOffset now, PoolPolicy policy)
    {
        if (!Mode.Serves || QueuedForSlot.IsEmpty || PickWorker(policy) is null) return Nothing;
        var rest = SlotQueue.Dequeue(out var quoteId);
        var state = this with { SlotQueue = rest, QueuedForSlot = QueuedForSlot.Remove(quoteId) };
        // Released while it waited (its refusal took it out of the queue's index): the id is just dropped.
        if (!QueuedForSlot.TryGetValue(quoteId, out var relay)) return new PoolStep(state, [], []);
        if (state.Txs.ContainsKey(quoteId) || state.Released.ContainsKey(quoteId) || state.Settled.ContainsKey(quoteId)) return new PoolStep(state, [], []);
        if (relay.Forward is { } call)
        {
            if (!state.Waiting.TryGetValue(quoteId, out var waiting) || waiting.Stage != ForwardStage.Signing) return new PoolStep(state, [], []);
            if (call.Deadline <= now.ToUnixTimeSeconds())
                return state.Refuse(relay, RejectionCodes.RequestExpired, "the forwarded request's deadline passed while it waited for a worker; re-quote", now)
                    .Then(s => s.ForwardEnded(call, nonceUsed: false, now, policy));
            // A simulation from before the wait proves little now (the user's nonce may have been used elsewhere): again.
            if (now - waiting.Since > ForwardRecheckAfter)
                return new PoolStep(state.WithWaiting(waiting with { Stage = ForwardStage.Checking, Verified = false }), [], [new PoolEffect.Preflight(relay)]);
        }

        return state.SignOriginal(relay, policy);
    }
}
