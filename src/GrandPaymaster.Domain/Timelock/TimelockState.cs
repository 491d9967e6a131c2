using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Timelock.TimelockProtocol;

namespace GrandPaymaster.Domain.Timelock;

/// <summary>The timelock's knobs (<c>hocon/timelock.hocon</c>, overlaid by <c>Gpm:Timelock:Hocon</c>).</summary>
public sealed record TimelockPolicy
{
    /// <summary>The delay between scheduling and the eta, per kind; a kind not listed waits <see cref="DefaultDelay"/>.</summary>
    public ImmutableDictionary<string, TimeSpan> Delays { get; init; } = ImmutableDictionary<string, TimeSpan>.Empty.WithComparers(StringComparer.Ordinal);

    public TimeSpan DefaultDelay { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How long after its eta a change can still be executed; later it expires (a stale change is scheduled again, with a new delay).</summary>
    public TimeSpan ExecutionWindow { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Scheduled changes at most: beyond, scheduling is refused with <c>timelock_full</c>.</summary>
    public int MaxScheduled { get; init; } = 1_000;

    /// <summary>How long a claimed execution keeps others from executing (or cancelling) the change; after it, another may try.</summary>
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan DelayOf(string kind) => Delays.TryGetValue(kind, out var delay) ? delay : DefaultDelay;
}

/// <summary>
/// The timelock: pure decisions over the scheduled changes (DESIGN.md §8.2). Bounded: at most
/// <see cref="TimelockPolicy.MaxScheduled"/> scheduled changes, and the latest <see cref="RetainClosed"/> closed ones in memory
/// (older ones are in the journal only). <see cref="Claims"/> (executions under way, with the end of their lease) is transient:
/// cleared after recovery.
/// </summary>
public sealed record TimelockState(ImmutableDictionary<string, TimelockChange> Items, ImmutableList<string> ClosedOrder, long Issued) : IPaymasterMessage
{
    /// <summary>Closed changes (executed, cancelled, expired) kept in memory for the list; the journal keeps every one.</summary>
    public const int RetainClosed = 1_000;

    public static readonly TimelockState Empty = new(ImmutableDictionary<string, TimelockChange>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableList<string>.Empty, 0);

    /// <summary>Executions under way: change id → end of the lease.</summary>
    public ImmutableDictionary<string, DateTimeOffset> Claims { get; init; } = ImmutableDictionary<string, DateTimeOffset>.Empty.WithComparers(StringComparer.Ordinal);

    public int ScheduledCount => Items.Count - ClosedOrder.Count;

    public (IPaymasterMessage Reply, ChangeScheduled? Event) Decide(ScheduleChange command, DateTimeOffset now, TimelockPolicy policy)
    {
        if (ScheduledCount >= policy.MaxScheduled)
            return (new Refused(TimelockCodes.Full, $"The timelock holds its maximum of {policy.MaxScheduled} scheduled changes; execute or cancel some first."), null);
        var eta = now + policy.DelayOf(command.Kind);
        var change = new TimelockChange($"tl-{Issued + 1}", command.Kind, command.ParamsJson, command.Subject, command.Meta.Reason, command.Meta.Actor, now, eta,
            eta + policy.ExecutionWindow);
        return (change, new ChangeScheduled(change, command.Meta with { At = now }));
    }

    public (IPaymasterMessage Reply, ChangeCancelled? Event) Decide(CancelChange command, DateTimeOffset now)
    {
        if (!Items.TryGetValue(command.ChangeId, out var change)) return (NotFound(command.ChangeId), null);
        if (change.Status != TimelockStatus.Scheduled) return (Closed(change), null);
        if (IsClaimed(change.Id, now)) return (Executing(change), null);
        var cancelled = new ChangeCancelled(change.Id, command.Meta with { At = now });
        return (Apply(cancelled).Items[change.Id], cancelled);
    }

    /// <summary>
    /// An execution may start once the eta has passed, before the change expires, while nobody else executes it; it gets a lease
    /// of <see cref="TimelockPolicy.ClaimLease"/>. Nothing is journaled until it completes or fails.
    /// </summary>
    public (IPaymasterMessage Reply, TimelockState State) Claim(ClaimExecution command, DateTimeOffset now, TimelockPolicy policy)
    {
        if (!Items.TryGetValue(command.ChangeId, out var change)) return (NotFound(command.ChangeId), this);
        if (change.Status != TimelockStatus.Scheduled) return (Closed(change), this);
        if (now < change.Eta)
            return (new Refused(TimelockCodes.NotReady, $"{change.Id} ({change.Kind}) can be executed from {change.Eta:O}, in {Math.Ceiling((change.Eta - now).TotalSeconds):0} s.",
                change.Eta), this);
        if (now > change.ExpiresAt) return (ExpiredRefusal(change), this);
        if (IsClaimed(change.Id, now)) return (Executing(change), this);
        return (change, this with { Claims = Claims.SetItem(change.Id, now + policy.ClaimLease) });
    }

    /// <summary>
    /// The handler applied the change: journaled once (a repeated completion answers the executed change). It is recorded even
    /// if the change expired or was cancelled after its lease ran out meanwhile: the journal says what was applied.
    /// </summary>
    public (IPaymasterMessage Reply, ChangeExecuted? Event) Decide(CompleteExecution command, DateTimeOffset now)
    {
        if (!Items.TryGetValue(command.ChangeId, out var change)) return (NotFound(command.ChangeId), null);
        if (change.Status == TimelockStatus.Executed) return (change, null);
        var executed = new ChangeExecuted(change.Id, change.Kind, change.ScheduledBy, command.Result, command.Meta with { At = now });
        return (Apply(executed).Items[change.Id], executed);
    }

    /// <summary>Applying the change failed: journaled (who tried, the error); the change stays scheduled and its lease ends.</summary>
    public (IPaymasterMessage Reply, ExecutionFailed? Event) Decide(FailExecution command, DateTimeOffset now)
    {
        if (!Items.TryGetValue(command.ChangeId, out var change)) return (NotFound(command.ChangeId), null);
        if (change.Status != TimelockStatus.Scheduled) return (change, null);
        var failed = new ExecutionFailed(change.Id, command.Error, command.Meta with { At = now });
        return (Apply(failed).Items[change.Id], failed);
    }

    /// <summary>Scheduled changes whose execution window has passed (none under execution), to be expired by an event each.</summary>
    public IEnumerable<TimelockChange> ExpiredAt(DateTimeOffset now) =>
        Items.Values.Where(c => c.Status == TimelockStatus.Scheduled && now > c.ExpiresAt && !IsClaimed(c.Id, now));

    /// <summary>The kept changes in the order they were scheduled, optionally of one status.</summary>
    public ImmutableList<TimelockChange> List(TimelockStatus? status) =>
        Items.Values.Where(c => status is null || c.Status == status).OrderBy(c => c.ScheduledAt).ThenBy(c => c.Id.Length).ThenBy(c => c.Id, StringComparer.Ordinal)
            .ToImmutableList();

    public TimelockState Apply(ITimelockEvent @event) => @event switch
    {
        ChangeScheduled e => this with { Items = Items.SetItem(e.Change.Id, e.Change), Issued = Issued + 1 },
        ChangeCancelled e => Close(e.ChangeId, c => c with
        {
            Status = TimelockStatus.Cancelled, CancelledBy = e.Meta.Actor, CancelledAt = e.Meta.At, CancelReason = e.Meta.Reason,
        }),
        ChangeExecuted e => Close(e.ChangeId, c => c with { Status = TimelockStatus.Executed, ExecutedBy = e.Meta.Actor, ExecutedAt = e.Meta.At, Result = e.Result }),
        ExecutionFailed e => Change(e.ChangeId, c => c with { FailedAttempts = c.FailedAttempts + 1, LastError = e.Error }) with { Claims = Claims.Remove(e.ChangeId) },
        ChangeExpired e => Close(e.ChangeId, c => c with { Status = TimelockStatus.Expired, ExpiredAt = e.Meta.At }),
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Not a timelock event."),
    };

    /// <summary>Equality by contents (immutable collections compare by reference), so a recovered state compares equal to the live one.</summary>
    public bool Equals(TimelockState? other) =>
        other is not null && Issued == other.Issued && ClosedOrder.SequenceEqual(other.ClosedOrder)
        && Items.Count == other.Items.Count && Items.All(kv => other.Items.TryGetValue(kv.Key, out var c) && c == kv.Value)
        && Claims.Count == other.Claims.Count && Claims.All(kv => other.Claims.TryGetValue(kv.Key, out var until) && until == kv.Value);

    public override int GetHashCode() => HashCode.Combine(Issued, Items.Count, ClosedOrder.Count);

    /// <summary>After recovery no execution is under way (one interrupted by a crash may be claimed again).</summary>
    public TimelockState AfterRecovery() => this with { Claims = Claims.Clear() };

    private bool IsClaimed(string id, DateTimeOffset now) => Claims.TryGetValue(id, out var until) && until > now;

    private TimelockState Change(string id, Func<TimelockChange, TimelockChange> change) =>
        Items.TryGetValue(id, out var current) ? this with { Items = Items.SetItem(id, change(current)) } : this;

    /// <summary>Closes the change (once in the order of closing) and forgets the oldest closed ones beyond <see cref="RetainClosed"/>.</summary>
    private TimelockState Close(string id, Func<TimelockChange, TimelockChange> change)
    {
        if (!Items.TryGetValue(id, out var current)) return this;
        var items = Items.SetItem(id, change(current));
        var order = current.Status == TimelockStatus.Scheduled ? ClosedOrder.Add(id) : ClosedOrder;
        while (order.Count > RetainClosed)
        {
            items = items.Remove(order[0]);
            order = order.RemoveAt(0);
        }

        return this with { Items = items, ClosedOrder = order, Claims = Claims.Remove(id) };
    }

    private static Refused NotFound(string id) => new(TimelockCodes.NotFound, $"The timelock has no change {id}.");

    private static Refused Executing(TimelockChange change) =>
        new(TimelockCodes.Executing, $"{change.Id} is being executed right now; ask again in a moment.");

    private static Refused ExpiredRefusal(TimelockChange change) =>
        new(TimelockCodes.Expired, $"{change.Id} expired at {change.ExpiresAt:O} without being executed; schedule it again.");

    private static Refused Closed(TimelockChange change) => change.Status switch
    {
        TimelockStatus.Executed => new Refused(TimelockCodes.AlreadyExecuted, $"{change.Id} was executed at {change.ExecutedAt:O} by {change.ExecutedBy}; a change runs once."),
        TimelockStatus.Cancelled => new Refused(TimelockCodes.Cancelled, $"{change.Id} was cancelled at {change.CancelledAt:O} by {change.CancelledBy}: {change.CancelReason}"),
        _ => ExpiredRefusal(change),
    };
}
