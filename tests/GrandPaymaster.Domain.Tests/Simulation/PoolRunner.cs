using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Dapps.DappCommands;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// Plays the part of the pool actor around a <see cref="PoolState"/>: journals each step's events, signs what a step
/// asks for at once and hands the result back through <see cref="PoolState.OnSigned"/> (as the actor does, so no other
/// decision comes in between), and passes every other effect to <c>dispatch</c>.
/// </summary>
public sealed class PoolRunner(PoolState initial, FakeSigner signer, FakeClock clock, Action<PoolEffect> dispatch)
{
    private readonly List<PoolEvents.IPoolEvent> _journal = [];

    public PoolState State { get; private set; } = initial;

    /// <summary>Every event journaled so far, in order: all that survives a crash.</summary>
    public IReadOnlyList<PoolEvents.IPoolEvent> Journal => _journal;

    /// <summary>Runs a decision on the current state.</summary>
    public void Run(Func<PoolState, PoolStep> decide) => Run(decide(State));

    /// <summary>
    /// Takes a step. Effects are carried out in a canonical order: the state lists some of them in hash order, which
    /// .NET randomizes per process, and a replayed run must see them in the same order.
    /// </summary>
    public void Run(PoolStep step)
    {
        State = step.State;
        _journal.AddRange(step.Events);
        foreach (var effect in step.Effects.OrderBy(CanonicalOrder, StringComparer.Ordinal))
        {
            if (effect is PoolEffect.Sign sign)
            {
                var signed = signer.Sign(sign.Request);
                Run(State.OnSigned(sign.Request, signed.Hash, signed.Raw, clock.Now));
            }
            else
            {
                dispatch(effect);
            }
        }
    }

    /// <summary>What the journal alone rebuilds: every event folded with <see cref="PoolState.Apply"/>.</summary>
    public PoolState Folded() => _journal.Aggregate(PoolState.Empty(State.ChainId), (s, e) => s.Apply(e));

    /// <summary>A crash: the state is rebuilt from the journal and its transient facts reset.</summary>
    public void Restart() => State = Folded().AfterRecovery();

    private static string CanonicalOrder(PoolEffect effect) => effect switch
    {
        PoolEffect.Sign s => $"1|{s.Request.Wallet}|{s.Request.Nonce:D20}|{s.Request.Kind}",
        PoolEffect.Broadcast b => $"2|{b.TxHash}",
        PoolEffect.ToDapp d => $"3|{d.Message.DappId}|{QuoteOf(d.Message)}|{d.Message.GetType().Name}",
        _ => "4",
    };

    private static string QuoteOf(IDappCommand message) => message switch
    {
        RelaySucceeded m => m.QuoteId.Value,
        RelayFailed m => m.QuoteId.Value,
        RelayReplaced m => m.QuoteId.Value,
        SettleFee m => m.QuoteId.Value,
        _ => "",
    };
}
