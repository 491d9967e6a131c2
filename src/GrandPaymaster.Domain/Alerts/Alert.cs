using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Domain.Alerts;

/// <summary>How urgent an alert is: only <see cref="Critical"/> ones are paged.</summary>
public enum AlertSeverity
{
    Critical,
    Warning,
    Info,
}

/// <summary>Where an alert stands: open, acknowledged by an operator (still unresolved), or resolved (in the bounded history).</summary>
public enum AlertState
{
    Open,
    Acknowledged,
    Resolved,
}

/// <summary>The kinds of alert the node raises (issue 10, point 6); the treasury issue raises <see cref="TopUpFailing"/>.</summary>
public static class AlertKinds
{
    public const string SafeMode = "safe_mode_entered";
    public const string RpcEndpointDown = "rpc_endpoint_down";
    public const string GasSourceDegraded = "gas_source_degraded";
    public const string SigningSlow = "signing_slow";
    public const string TopUpFailing = "topup_failing";
    public const string DappFrozen = "dapp_frozen";
    public const string SloBurning = "slo_burning_fast";

    /// <summary>Raises beyond the store's bound are counted here (one slot kept for it).</summary>
    public const string Overflow = "alerts_overflow";

    public const int MaxKindLength = 64;
    public const int MaxSubjectLength = 200;
    public const int MaxSummaryLength = 1_000;
}

/// <summary>
/// One alert, de-duplicated by (<see cref="Kind"/>, <see cref="Subject"/>) while unresolved: a repeat bumps
/// <see cref="Count"/> and <see cref="LastAt"/>. <see cref="TriggerPaged"/> / <see cref="ResolvePaged"/> record that the
/// pager took the trigger / resolve of a critical alert (journaled, so a restarted singleton never pages twice).
/// </summary>
public sealed record Alert(
    string Id,
    string Kind,
    AlertSeverity Severity,
    string Subject,
    string Summary,
    DateTimeOffset FirstAt,
    DateTimeOffset LastAt,
    long Count,
    AlertState State,
    string? AcknowledgedBy = null,
    DateTimeOffset? AcknowledgedAt = null,
    string? ResolvedBy = null,
    DateTimeOffset? ResolvedAt = null,
    bool TriggerPaged = false,
    bool ResolvePaged = false) : IPaymasterMessage
{
    public string Key => KeyOf(Kind, Subject);

    /// <summary>The pager's <c>dedup_key</c>: kind and subject (PagerDuty allows 255 characters).</summary>
    public string DedupKey => DedupKeyOf(Kind, Subject);

    public bool IsUnresolved => State != AlertState.Resolved;

    /// <summary>A trigger is owed: critical, not yet taken by the pager, still unresolved (one that resolved first needs no page).</summary>
    public bool OwesTrigger => Severity == AlertSeverity.Critical && !TriggerPaged && IsUnresolved;

    /// <summary>A resolve is owed: its trigger was paged and it has since resolved.</summary>
    public bool OwesResolve => Severity == AlertSeverity.Critical && TriggerPaged && !ResolvePaged && State == AlertState.Resolved;

    public static string KeyOf(string kind, string subject) => $"{kind}\u001f{subject}";

    public static string DedupKeyOf(string kind, string subject)
    {
        var key = $"{kind}:{subject}";
        return key.Length <= 255 ? key : key[..255];
    }
}

/// <summary>What the alert store keeps at most (<c>gpm.alerts</c> in <c>hocon/alerts.hocon</c>).</summary>
public sealed record AlertLimits(int MaxUnresolved = 500, int MaxResolved = 1_000)
{
    public void Validate()
    {
        if (MaxUnresolved < 1) throw new ArgumentOutOfRangeException(nameof(MaxUnresolved), MaxUnresolved, "must be at least 1");
        if (MaxResolved < 0) throw new ArgumentOutOfRangeException(nameof(MaxResolved), MaxResolved, "must not be negative");
    }
}

/// <summary>Commands, replies and events of the alert store (one persistent singleton, persistence id <c>alerts</c>).</summary>
public static class AlertProtocol
{
    public interface IAlertCommand : IPaymasterMessage;

    public interface IAlertEvent : IPaymasterMessage
    {
        Meta Meta { get; }
    }

    /// <summary>
    /// Raises an alert, or repeats the unresolved one of the same kind and subject. The public entry point of every source,
    /// including the treasury's top-up failures (<see cref="AlertKinds.TopUpFailing"/>). Answered with the <see cref="Alert"/>.
    /// </summary>
    public sealed record RaiseAlert(string Kind, AlertSeverity Severity, string Subject, string Summary, Meta Meta) : IAlertCommand;

    /// <summary>Resolves the unresolved alert of this kind and subject (the source is healthy again); answered with it, or <see cref="NoAlert"/>.</summary>
    public sealed record ResolveAlert(string Kind, string Subject, Meta Meta) : IAlertCommand;

    /// <summary>An operator acknowledges an alert (who and why in <paramref name="Meta"/>).</summary>
    public sealed record AcknowledgeAlert(string AlertId, Meta Meta) : IAlertCommand;

    /// <summary>The alerts in one state (null: all), newest first.</summary>
    public sealed record GetAlerts(AlertState? State) : IAlertCommand;

    public sealed record AlertList(ImmutableList<Alert> Alerts) : IPaymasterMessage;

    /// <summary>A resolve or acknowledge named no alert it could act on.</summary>
    public sealed record NoAlert(string Code, string Detail) : IPaymasterMessage;

    /// <summary>Told to every node (for SSE and metrics) after each raise, repeat, acknowledge and resolve.</summary>
    public sealed record AlertChanged(Alert Alert, string Change) : IPaymasterMessage;

    public sealed record AlertRaised(Alert Alert, Meta Meta) : IAlertEvent;

    /// <summary>Repeats counted in memory since the last write, journaled at a coarse cadence (the count and last time, absolute).</summary>
    public sealed record AlertRepeated(string AlertId, long Count, DateTimeOffset LastAt, string Summary, Meta Meta) : IAlertEvent;

    public sealed record AlertAcknowledged(string AlertId, long Count, DateTimeOffset LastAt, Meta Meta) : IAlertEvent;

    /// <summary>Resolved by its source, or evicted to make room for a more severe alert (<see cref="Meta"/> says which).</summary>
    public sealed record AlertResolved(string AlertId, long Count, DateTimeOffset LastAt, Meta Meta) : IAlertEvent;

    /// <summary>The pager accepted the <paramref name="Action"/> (<c>trigger</c> or <c>resolve</c>) of a critical alert.</summary>
    public sealed record AlertPaged(string AlertId, string Action, Meta Meta) : IAlertEvent;
}
