using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;
using static GrandPaymaster.Domain.Pools.PoolCommands;
using static GrandPaymaster.Domain.Pools.PoolEvents;

namespace GrandPaymaster.Actors.Pools;

/// <summary>
/// The sharded, persistent gas pool of one chain (<c>pool-{chainId}</c>). Thin by design: the pure
/// <see cref="PoolState"/> decides, this actor persists what it decided and replies only after the
/// events are in the journal.
/// </summary>
public sealed class ChainPoolActor : ReceivePersistentActor
{
    /// <summary>A snapshot every N events keeps recovery short.</summary>
    public const int SnapshotEvery = 100;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PoolState _state;

    public ChainPoolActor(ChainId chainId)
    {
        PersistenceId = PersistenceIdFor(chainId);
        _state = PoolState.Empty(chainId);

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PoolState snapshot) _state = snapshot;
        });
        Recover<IPoolEvent>(e => _state = _state.Apply(e));

        Command<RegisterWorkerWallet>(Handle);
        Command<GetPoolState>(_ => Sender.Tell(_state));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of {0} failed; recovery replays more events", PersistenceId));
    }

    public override string PersistenceId { get; }

    public static string PersistenceIdFor(ChainId chainId) => $"pool-{chainId}";

    public static Props PropsFor(ChainId chainId) => Props.Create(() => new ChainPoolActor(chainId));

    private void Handle(RegisterWorkerWallet command)
    {
        var (reply, events) = _state.Handle(command);
        if (events.Count == 0)
        {
            Sender.Tell(reply);
            return;
        }

        var sender = Sender;
        var remaining = events.Count;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (--remaining > 0) return;
            sender.Tell(reply);
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state);
        });
    }
}
