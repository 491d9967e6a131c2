using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Domain.Pools;

/// <summary>Where a forwarded relay that is not signed yet stands.</summary>
public enum ForwardStage
{
    /// <summary>Waits for its user's earlier request, or for <see cref="WaitingForward.NotBefore"/>.</summary>
    Queued,

    /// <summary>Being simulated against the chain (<see cref="PoolEffect.Preflight"/>).</summary>
    Checking,

    /// <summary>Handed to the signer, or waiting for a worker slot (<see cref="PoolState.SlotQueue"/>); <see cref="TxSubmitted"/> takes it out of the queue.</summary>
    Signing,
}

/// <summary>A forwarded relay the pool holds back until it is its user's turn and a simulation says it would succeed.</summary>
public sealed record WaitingForward(RelayTransaction Relay, ForwardStage Stage, DateTimeOffset Since, DateTimeOffset NotBefore, bool Verified)
{
    public ForwardedCall Call => Relay.Forward!;
}

/// <summary>
/// Forwarded relays (ERC-2771). A user's forwarder nonces must be mined in order, and a request whose predecessor failed
/// can never be: so the pool has at most one transaction per user in flight, holds the user's later requests back (in
/// memory: the dApps ask again after a restart), simulates each one right before signing it unless the edge just did,
/// and releases — journaled, nothing signed — every later request of a user whose request failed, was cancelled or
/// dropped, and every request whose deadline passed.
/// </summary>
public sealed partial record PoolState
{
    /// <summary>Forwarded relays held back at once, and per user; beyond, a relay is not taken (its dApp asks again).</summary>
    public const int MaxWaitingForwards = 10_000;

    public const int MaxWaitingPerUser = 64;

    /// <summary>How long a forwarded relay whose user's nonce is not there yet (or whose simulation could not run) waits before it is checked again.</summary>
    public static readonly TimeSpan ForwardRecheckAfter = TimeSpan.FromSeconds(1);

    /// <summary>Forwarded relays not signed yet (transient).</summary>
    public ImmutableDictionary<QuoteId, WaitingForward> Waiting { get; init; } = ImmutableDictionary<QuoteId, WaitingForward>.Empty;

    private PoolStep QueueForwarded(RelayTransaction relay, DateTimeOffset now, PoolPolicy policy)
    {
        if (Waiting.ContainsKey(relay.QuoteId)) return Nothing;
        var call = relay.Forward!;
        if (call.Deadline <= now.ToUnixTimeSeconds())
            return Refuse(relay, RejectionCodes.RequestExpired, $"the forwarded request's deadline passed before it was relayed; re-quote", now);
        if (Waiting.Count >= MaxWaitingForwards || Waiting.Values.Count(w => w.Call.User == call.User) >= MaxWaitingPerUser) return Nothing;

        // Verified by the edge's simulation only if nothing of the user's is ahead of it here.
        var first = !Pending.Any(t => t.Forward?.User == call.User) && !Waiting.Values.Any(w => w.Call.User == call.User);
        var queued = this with { Waiting = Waiting.SetItem(relay.QuoteId, new WaitingForward(relay, ForwardStage.Queued, now, now, call.Simulated && first)) };
        return queued.Advance(call.User, now, policy);
    }

    /// <summary>
    /// The user's next request, if it is its turn: nothing of the user's in flight or being checked, the lowest nonce first.
    /// Verified by the edge, it is signed; otherwise simulated first.
    /// </summary>
    private PoolStep Advance(Address user, DateTimeOffset now, PoolPolicy policy)
    {
        if (!Mode.Serves || Pending.Any(t => t.Forward?.User == user)) return Nothing;
        var mine = Waiting.Values.Where(w => w.Call.User == user).ToArray();
        if (mine.Length == 0 || mine.Any(w => w.Stage != ForwardStage.Queued)) return Nothing;
        var next = mine.MinBy(w => w.Call.UserNonce)!;
        if (next.NotBefore > now) return Nothing;
        if (!next.Verified)
            return new PoolStep(WithWaiting(next with { Stage = ForwardStage.Checking }), [], [new PoolEffect.Preflight(next.Relay)]);
        var signing = WithWaiting(next with { Stage = ForwardStage.Signing });
        var step = signing.SignOriginal(next.Relay, policy);
        // Signed, or queued for a worker slot; with no synced worker (or the queue full) it waits and is tried again on a tick.
        return step.Effects.Count > 0 || step.State.QueuedForSlot.ContainsKey(next.Relay.QuoteId)
            ? step
            : new PoolStep(WithWaiting(next with { NotBefore = now + ForwardRecheckAfter }), [], []);
    }

    /// <summary>
    /// The simulation of a held-back forwarded relay answered. A refusal releases it; unless its nonce was used by
    /// something else, the user's later requests can then never run either (<see cref="ForwardEnded"/>).
    /// </summary>
    public PoolStep OnPreflight(QuoteId quoteId, PreflightVerdict verdict, DateTimeOffset now, PoolPolicy policy)
    {
        if (!Waiting.TryGetValue(quoteId, out var waiting) || waiting.Stage != ForwardStage.Checking) return Nothing;
        var call = waiting.Call;
        var (code, reason) = verdict switch
        {
            PreflightVerdict.Passes => (null, null),
            PreflightVerdict.NonceAhead or PreflightVerdict.Unknown => (null, null),
            PreflightVerdict.NonceUsed => (RejectionCodes.NonceStale, "the user's forwarder nonce was already used; re-quote"),
            PreflightVerdict.Expired => (RejectionCodes.RequestExpired, "the forwarded request's deadline passed; re-quote"),
            PreflightVerdict.UntrustedTarget => (RejectionCodes.UntrustedTarget, "the target does not trust the forwarder"),
            _ => (RejectionCodes.SimulationReverted, "the forwarded call reverts when simulated (or needs more gas than quoted)"),
        };
        if (verdict == PreflightVerdict.Passes)
            return WithWaiting(waiting with { Stage = ForwardStage.Queued, Verified = true }).Advance(call.User, now, policy);
        if (code is null) return new PoolStep(WithWaiting(waiting with { Stage = ForwardStage.Queued, NotBefore = now + ForwardRecheckAfter }), [], []);
        return Refuse(waiting.Relay, code, reason!, now).Then(s => s.ForwardEnded(call, nonceUsed: verdict == PreflightVerdict.NonceUsed, now, policy));
    }

    /// <summary>
    /// A forwarded transaction of the user ended. Mined and successful: the user's next request may go. Anything else
    /// (reverted, cancelled, dropped, refused) leaves its nonce unused, so the user's later requests can never be
    /// executed: they are released (<c>nonce_stale</c>), and a request at the same nonce (another dApp's) is checked next.
    /// </summary>
    private PoolStep ForwardEnded(ForwardedCall call, bool nonceUsed, DateTimeOffset now, PoolPolicy policy)
    {
        var step = new PoolStep(this, [], []);
        if (!nonceUsed)
            foreach (var later in Waiting.Values.Where(w => w.Call.User == call.User && w.Call.UserNonce > call.UserNonce && w.Stage != ForwardStage.Signing)
                         .OrderBy(w => w.Call.UserNonce).ToArray())
                step = step.Then(s => s.Refuse(later.Relay, RejectionCodes.NonceStale,
                    $"an earlier request of this user (forwarder nonce {call.UserNonce}) was not executed, so this one cannot be; re-quote", now));
        return step.Then(s => s.Advance(call.User, now, policy));
    }

    /// <summary>On the pool's clock: releases held-back requests past their deadline and moves on queues whose wait is over.</summary>
    private PoolStep ForwardTick(DateTimeOffset now, PoolPolicy policy)
    {
        var step = new PoolStep(this, [], []);
        if (Waiting.IsEmpty) return step;
        var seconds = now.ToUnixTimeSeconds();
        // Not one being signed right now; one waiting for a worker slot is released like any other.
        foreach (var expired in Waiting.Values.Where(w => w.Call.Deadline <= seconds && (w.Stage != ForwardStage.Signing || QueuedForSlot.ContainsKey(w.Relay.QuoteId)))
                     .OrderBy(w => w.Call.UserNonce).ToArray())
        {
            if (!step.State.Waiting.ContainsKey(expired.Relay.QuoteId)) continue; // released with an earlier one of its user
            step = step.Then(s => s.Refuse(expired.Relay, RejectionCodes.RequestExpired, "the forwarded request's deadline passed while it waited; re-quote", now))
                .Then(s => s.ForwardEnded(expired.Call, nonceUsed: false, now, policy));
        }

        foreach (var user in step.State.Waiting.Values.Where(w => w.Stage == ForwardStage.Queued && w.NotBefore <= now).Select(w => w.Call.User).Distinct().ToArray())
            step = step.Then(s => s.Advance(user, now, policy));
        return step;
    }

    /// <summary>Releases a relay that was never signed: journaled, so a repeated request gets the same answer.</summary>
    private PoolStep Refuse(RelayTransaction relay, string code, string reason, DateTimeOffset now)
    {
        var refused = new RelayRefused(ChainId, relay.QuoteId, relay.DappId, $"{code}: {reason}", SystemMeta($"relay refused: {code}", now, relay.QuoteId.Value), code);
        return Step([refused], new PoolEffect.ToDapp(new DappCommands.RelayFailed(relay.DappId, relay.QuoteId, refused.Reason, code)));
    }

    private PoolState WithWaiting(WaitingForward waiting) => this with { Waiting = Waiting.SetItem(waiting.Relay.QuoteId, waiting) };

    /// <summary>Whether a receipt shows the forwarder ran this request and its call succeeded (<c>execute</c> reverts otherwise).</summary>
    private static bool ForwardSucceeded(ForwardedCall call, IReadOnlyList<ForwardExecution>? executions) =>
        executions?.Any(e => e.Forwarder == call.Forwarder && e.Signer == call.User && e.Nonce == call.UserNonce && e.Success) == true;
}

/// <summary>Chaining steps: the events and effects of both, in order, on the state the second one left.</summary>
public static class PoolStepExtensions
{
    /// <summary>A forwarded transaction's end, chained after the step that ended it.</summary>
    public static PoolStep AfterForward(this PoolStep step, PoolTx tx, bool nonceUsed, DateTimeOffset now, PoolPolicy policy) =>
        tx.Forward is null ? step : step.Then(s => s.AfterForwardEnded(tx, nonceUsed, now, policy));

    public static PoolStep Then(this PoolStep first, Func<PoolState, PoolStep> next)
    {
        var second = next(first.State);
        if (second.Events.Count == 0 && second.Effects.Count == 0) return first with { State = second.State };
        return new PoolStep(second.State, [.. first.Events, .. second.Events], [.. first.Effects, .. second.Effects]);
    }
}
