using Akka.Persistence;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// The base of every persistent actor in the paymaster: its journal is the audit log (DESIGN.md §4).
/// The per-persistence-id hash chain of issue 10 is built here, so no actor can persist around it.
/// </summary>
public abstract class AuditedPersistentActor : ReceivePersistentActor
{
}
