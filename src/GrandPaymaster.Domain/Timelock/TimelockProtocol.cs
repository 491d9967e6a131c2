using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Domain.Timelock;

/// <summary>Where a timelocked change is: waiting for its eta (and then executable until it expires), or closed one way or another.</summary>
public enum TimelockStatus
{
    Scheduled,
    Cancelled,
    Executed,

    /// <summary>Not executed within the execution window after its eta: it can no longer be executed (schedule it again).</summary>
    Expired,
}

/// <summary>
/// One critical change waiting out its delay (DESIGN.md §2, <c>Timelock</c>): what (<see cref="Kind"/> and its validated
/// parameters as JSON), who scheduled it and why, from when it may be executed (<see cref="Eta"/>) and until when
/// (<see cref="ExpiresAt"/>), and how it ended. <see cref="Subject"/> names what it touches (<c>chain 31337</c>) for people.
/// </summary>
public sealed record TimelockChange(
    string Id,
    string Kind,
    string ParamsJson,
    string Subject,
    string Reason,
    string ScheduledBy,
    DateTimeOffset ScheduledAt,
    DateTimeOffset Eta,
    DateTimeOffset ExpiresAt,
    TimelockStatus Status = TimelockStatus.Scheduled,
    string? ExecutedBy = null,
    DateTimeOffset? ExecutedAt = null,
    string? Result = null,
    string? CancelledBy = null,
    DateTimeOffset? CancelledAt = null,
    string? CancelReason = null,
    DateTimeOffset? ExpiredAt = null,
    int FailedAttempts = 0,
    string? LastError = null) : IPaymasterMessage;

/// <summary>The stable codes of the timelock's refusals.</summary>
public static class TimelockCodes
{
    /// <summary>The direct route of a timelocked change was called: schedule it on <c>/admin/v1/timelock</c> instead (403).</summary>
    public const string Required = "timelock_required";

    /// <summary>Executed before its eta (425, with the eta).</summary>
    public const string NotReady = "timelock_not_ready";

    /// <summary>The bound of scheduled changes is reached (409): cancel or execute some first.</summary>
    public const string Full = "timelock_full";

    public const string Expired = "timelock_expired";
    public const string AlreadyExecuted = "timelock_already_executed";
    public const string Cancelled = "timelock_cancelled";

    /// <summary>Another execution of the change is under way (409).</summary>
    public const string Executing = "timelock_executing";

    /// <summary>
    /// The change was overtaken (409): what it would undo was decided after it was scheduled (a chain enabled or disabled since),
    /// so its delay was not served for the situation it would now change. Schedule it again if it is still wanted.
    /// </summary>
    public const string Stale = "timelock_stale";

    public const string NotFound = "not_found";
}

/// <summary>
/// Commands, replies and events of the timelock (one persistent cluster singleton; its journal is the audit log). Execution
/// is done by the edge in three steps: <see cref="ClaimExecution"/> (the eta has passed, nobody else is executing it), the
/// kind's handler applies the change, then <see cref="CompleteExecution"/> journals who executed it and the result (or
/// <see cref="FailExecution"/> journals the failure and the change stays scheduled).
/// </summary>
public static class TimelockProtocol
{
    public interface ITimelockCommand : IPaymasterMessage;

    /// <summary>Schedules a change of <paramref name="Kind"/> whose parameters the edge has validated; <see cref="Meta"/> is who and why.</summary>
    public sealed record ScheduleChange(string Kind, string ParamsJson, string Subject, Meta Meta) : ITimelockCommand;

    public sealed record CancelChange(string ChangeId, Meta Meta) : ITimelockCommand;

    /// <summary>Asks to execute: answered with the change (and a lease on its execution) or a <see cref="Refused"/>.</summary>
    public sealed record ClaimExecution(string ChangeId, Meta Meta) : ITimelockCommand;

    /// <summary>The change was applied; <paramref name="Result"/> says what it did.</summary>
    public sealed record CompleteExecution(string ChangeId, string Result, Meta Meta) : ITimelockCommand;

    /// <summary>Applying the change failed (a timeout, a refusal); it stays scheduled and can be executed again until it expires.</summary>
    public sealed record FailExecution(string ChangeId, string Error, Meta Meta) : ITimelockCommand;

    /// <summary>The changes the timelock keeps (all scheduled ones, and the latest closed ones), optionally of one status.</summary>
    public sealed record GetChanges(TimelockStatus? Status) : ITimelockCommand;

    public sealed record Changes(ImmutableList<TimelockChange> Items) : IPaymasterMessage;

    /// <summary>A refusal with a stable code (<see cref="TimelockCodes"/>); <paramref name="Eta"/> with <c>timelock_not_ready</c>.</summary>
    public sealed record Refused(string Code, string Message, DateTimeOffset? Eta = null) : IPaymasterMessage;

    /// <summary>Every timelock event names its change and says who, when and why.</summary>
    public interface ITimelockEvent : IPaymasterMessage
    {
        string ChangeId { get; }
        Meta Meta { get; }
    }

    public sealed record ChangeScheduled(TimelockChange Change, Meta Meta) : ITimelockEvent
    {
        public string ChangeId => Change.Id;
    }

    public sealed record ChangeCancelled(string ChangeId, Meta Meta) : ITimelockEvent;

    /// <summary>The change was applied: scheduled by <paramref name="ScheduledBy"/>, executed by <c>Meta.Actor</c> at <c>Meta.At</c>, with <paramref name="Result"/>.</summary>
    public sealed record ChangeExecuted(string ChangeId, string Kind, string ScheduledBy, string Result, Meta Meta) : ITimelockEvent;

    public sealed record ExecutionFailed(string ChangeId, string Error, Meta Meta) : ITimelockEvent;

    /// <summary>The execution window after the eta passed without an execution (<c>system:timelock</c>).</summary>
    public sealed record ChangeExpired(string ChangeId, Meta Meta) : ITimelockEvent;
}
