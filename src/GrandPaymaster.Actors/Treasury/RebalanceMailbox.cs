using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using GrandPaymaster.Domain.Treasury;

namespace GrandPaymaster.Actors.Treasury;

/// <summary>
/// The Orchestrator's mailbox (<c>rebalance-mailbox</c> in <c>hocon/mailboxes.hocon</c>): Akka.NET's unbounded stable priority
/// mailbox — FIFO within a priority — ordering rebalance work Critical before Warning before Normal. Every message that is not
/// rebalance work (<see cref="IRebalanceWork"/>) goes first: system messages, the journal's replies to the actor's own writes
/// (internal Akka.Persistence types), recovery, timers, the Vault's answers, queries. A persistent actor waits for its journal's
/// reply before it handles the next command; held behind a flood of work, that reply would stall the actor (and with async
/// writes, let work overtake the writes it depends on).
/// </summary>
public sealed class RebalanceMailbox(Settings settings, Config config) : UnboundedStablePriorityMailbox(settings, config)
{
    /// <summary>The HOCON path of this mailbox (<c>Props.WithMailbox</c>).</summary>
    public const string Path = "rebalance-mailbox";

    protected override int PriorityGenerator(object message) => PriorityOf(message);

    /// <summary>0 for anything that is not rebalance work; then 1 Critical, 2 Warning, 3 Normal.</summary>
    public static int PriorityOf(object message) => message is IRebalanceWork work
        ? work.Priority switch
        {
            RebalancePriority.Critical => 1,
            RebalancePriority.Warning => 2,
            _ => 3,
        }
        : 0;
}
