using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Actors.Operators;

/// <summary>Registry key for the operator registry singleton's proxy.</summary>
public sealed class OperatorRegistrySingleton;

/// <summary>
/// The operators (cluster singleton, persistence id <c>operators</c>): who they are, their roles, scopes and token hashes.
/// Its journal also records what operators did that belongs to no entity (refused requests, cluster commands), so every
/// operator's act is in the audit log. Answers are sent after the event is persisted.
/// </summary>
public sealed class OperatorRegistryActor : AuditedPersistentActor
{
    public const string Id = "operators";
    private const int SnapshotEvery = 500;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private OperatorRegistryState _state = OperatorRegistryState.Empty;

    public OperatorRegistryActor()
    {
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is OperatorRegistryState state) _state = state;
        });
        Recover<IPaymasterMessage>(e => _state = _state.Apply(e));

        Command<Authenticate>(c => Sender.Tell(new Authenticated(_state.ByToken(c.TokenHash), !_state.AdminEverCreated)));
        Command<ListOperators>(_ => Sender.Tell(new OperatorProtocol.Operators(_state.ById.Values.OrderBy(o => o.CreatedAt).ToImmutableList())));
        Command<CreateOperator>(c => Decide(_state.Decide(c)));
        Command<GrantRoles>(c => Decide(_state.Decide(c)));
        Command<RevokeOperator>(c => Decide(_state.Decide(c)));
        Command<RotateToken>(c => Decide(_state.Decide(c)));
        Command<RecordRefusal>(c => PersistThenAnswer(new AccessRefused(c.OperatorId, c.Method, c.Route, c.Code, c.Detail, c.Meta), Recorded.Instance));
        Command<RecordAction>(c => PersistThenAnswer(new OperatorActed(c.Action, c.Subject, c.Meta), Recorded.Instance));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the operator registry failed"));
    }

    public override string PersistenceId => Id;

    private void Decide((OperatorAnswer Reply, IPaymasterMessage? Event) decision)
    {
        if (decision.Event is null) Sender.Tell(decision.Reply);
        else PersistThenAnswer(decision.Event, decision.Reply);
    }

    private void PersistThenAnswer(IPaymasterMessage e, IPaymasterMessage reply)
    {
        var replyTo = Sender;
        Persist(e, persisted =>
        {
            _state = _state.Apply(persisted);
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state);
            replyTo.Tell(reply);
        });
    }
}

/// <summary>Wires the operator registry singleton into an actor system.</summary>
public static class OperatorRegistryHosting
{
    public static AkkaConfigurationBuilder AddOperatorRegistry(this AkkaConfigurationBuilder builder, string role = "core") =>
        builder.WithSingleton<OperatorRegistrySingleton>(OperatorRegistryActor.Id, (_, _, _) => Props.Create(() => new OperatorRegistryActor()),
            new ClusterSingletonOptions { Role = role });
}
