using System.Collections.Immutable;
using System.Globalization;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Domain.Alerts;

/// <summary>
/// What a raise decided: a new alert (<see cref="Events"/> to journal: the raise, and the eviction of a less severe alert when
/// the store is full), or a repeat of an unresolved one (<see cref="Repeated"/>: the state with its count bumped, kept in
/// memory and journaled later at a coarse cadence).
/// </summary>
public sealed record RaiseDecision(Alert Alert, ImmutableArray<IAlertEvent> Events, AlertsState? Repeated);

/// <summary>
/// The alert store, pure: unresolved alerts by (kind, subject), at most <see cref="AlertLimits.MaxUnresolved"/> of them (plus one
/// slot for <see cref="AlertKinds.Overflow"/>), and a history of resolved alerts, at most <see cref="AlertLimits.MaxResolved"/>
/// (the oldest leave the state; the journal keeps them). Alert ids are numbered in journal order, so recovery gives the same ids.
/// </summary>
public sealed record AlertsState(ImmutableDictionary<string, Alert> Unresolved, ImmutableList<Alert> Resolved, long Raised) : IPaymasterMessage
{
    public static readonly AlertsState Empty = new(ImmutableDictionary<string, Alert>.Empty.WithComparers(StringComparer.Ordinal), [], 0);

    public const string NotFound = "alert_not_found";
    public const string AlreadyResolved = "alert_resolved";

    /// <summary>Unresolved alerts, overflow not counted.</summary>
    private int Regular => Unresolved.Count - (Unresolved.ContainsKey(OverflowKey) ? 1 : 0);

    private static readonly string OverflowKey = Alert.KeyOf(AlertKinds.Overflow, "alert store");

    public RaiseDecision Raise(RaiseAlert command, AlertLimits limits)
    {
        var kind = Clip(command.Kind, AlertKinds.MaxKindLength);
        var subject = Clip(command.Subject, AlertKinds.MaxSubjectLength);
        var summary = Clip(command.Summary, AlertKinds.MaxSummaryLength);
        if (Unresolved.TryGetValue(Alert.KeyOf(kind, subject), out var known))
        {
            var bumped = known with { Count = known.Count + 1, LastAt = Later(known.LastAt, command.Meta.At), Summary = summary };
            return new RaiseDecision(bumped, [], this with { Unresolved = Unresolved.SetItem(known.Key, bumped) });
        }

        var events = ImmutableArray.CreateBuilder<IAlertEvent>();
        if (kind != AlertKinds.Overflow && Regular >= limits.MaxUnresolved)
        {
            // Full: make room by resolving the oldest of the least severe alerts, if it is less severe than this one;
            // otherwise this raise is only counted on the overflow alert.
            var victim = Unresolved.Values.Where(a => a.Kind != AlertKinds.Overflow && a.Severity > command.Severity)
                .OrderByDescending(a => a.Severity).ThenBy(a => a.LastAt).FirstOrDefault();
            if (victim is null)
                return Raise(new RaiseAlert(AlertKinds.Overflow, AlertSeverity.Warning, "alert store",
                    $"The store holds its maximum of {limits.MaxUnresolved} unresolved alerts; a {Name(command.Severity)} {kind} alert for {subject} was not stored: {summary}",
                    command.Meta), limits);
            events.Add(new AlertResolved(victim.Id, victim.Count, victim.LastAt,
                command.Meta with { Reason = $"evicted: the alert store is full and a more severe {kind} alert came in" }));
        }

        var alert = new Alert(IdOf(Raised + 1), kind, command.Severity, subject, summary, command.Meta.At, command.Meta.At, 1, AlertState.Open);
        events.Add(new AlertRaised(alert, command.Meta));
        return new RaiseDecision(alert, events.ToImmutable(), null);
    }

    /// <summary>Resolves the unresolved alert of this kind and subject (and the overflow alert, once there is room again).</summary>
    public (IPaymasterMessage Reply, ImmutableArray<IAlertEvent> Events) Resolve(ResolveAlert command, AlertLimits limits)
    {
        var key = Alert.KeyOf(Clip(command.Kind, AlertKinds.MaxKindLength), Clip(command.Subject, AlertKinds.MaxSubjectLength));
        if (!Unresolved.TryGetValue(key, out var alert))
            return (new NoAlert(NotFound, $"No unresolved {command.Kind} alert for {command.Subject}."), []);
        var events = ImmutableArray.CreateBuilder<IAlertEvent>();
        events.Add(new AlertResolved(alert.Id, alert.Count, alert.LastAt, command.Meta));
        if (key != OverflowKey && Unresolved.TryGetValue(OverflowKey, out var overflow) && Regular - 1 < limits.MaxUnresolved)
            events.Add(new AlertResolved(overflow.Id, overflow.Count, overflow.LastAt, command.Meta with { Reason = "the alert store has room again" }));
        return (alert, events.ToImmutable());
    }

    /// <summary>An operator acknowledges an open alert; acknowledging it again changes nothing; a resolved one cannot be.</summary>
    public (IPaymasterMessage Reply, AlertAcknowledged? Event) Acknowledge(AcknowledgeAlert command)
    {
        if (FindUnresolved(command.AlertId) is { } alert)
            return alert.State == AlertState.Acknowledged
                ? (alert, null)
                : (alert, new AlertAcknowledged(alert.Id, alert.Count, alert.LastAt, command.Meta));
        return Resolved.Any(a => a.Id == command.AlertId)
            ? (new NoAlert(AlreadyResolved, $"Alert {command.AlertId} is resolved already."), null)
            : (new NoAlert(NotFound, $"Alert {command.AlertId} does not exist (or left the bounded history)."), null);
    }

    /// <summary>The journal entries of repeats counted in memory since the last write (for the alerts named in <paramref name="ids"/>).</summary>
    public ImmutableArray<IAlertEvent> RepeatsToJournal(IEnumerable<string> ids, Meta meta) =>
        [.. ids.Select(FindUnresolved).OfType<Alert>().Select(a => (IAlertEvent)new AlertRepeated(a.Id, a.Count, a.LastAt, a.Summary, meta))];

    /// <summary>Alerts whose trigger or resolve the pager has not taken yet, oldest first.</summary>
    public IEnumerable<Alert> OwedPages => Unresolved.Values.Where(a => a.OwesTrigger).Concat(Resolved.Where(a => a.OwesResolve)).OrderBy(a => a.FirstAt);

    /// <summary>Alerts in <paramref name="state"/> (null: all), most recently active first.</summary>
    public ImmutableList<Alert> List(AlertState? state) =>
        Unresolved.Values.Concat(Resolved).Where(a => state is null || a.State == state).OrderByDescending(a => a.LastAt).ThenByDescending(a => a.Id.Length)
            .ThenByDescending(a => a.Id, StringComparer.Ordinal).ToImmutableList();

    public Alert? Find(string id) => FindUnresolved(id) ?? Resolved.FirstOrDefault(a => a.Id == id);

    public AlertsState Apply(IAlertEvent @event, AlertLimits limits)
    {
        switch (@event)
        {
            case AlertRaised e:
                return this with { Unresolved = Unresolved.SetItem(e.Alert.Key, e.Alert), Raised = Raised + 1 };
            case AlertRepeated e when FindUnresolved(e.AlertId) is { } a:
                return Put(a with { Count = e.Count, LastAt = e.LastAt, Summary = e.Summary });
            case AlertAcknowledged e when FindUnresolved(e.AlertId) is { } a:
                return Put(a with { Count = Math.Max(a.Count, e.Count), LastAt = Later(a.LastAt, e.LastAt), State = AlertState.Acknowledged,
                    AcknowledgedBy = e.Meta.Actor, AcknowledgedAt = e.Meta.At });
            case AlertResolved e when FindUnresolved(e.AlertId) is { } a:
                var resolved = a with { Count = Math.Max(a.Count, e.Count), LastAt = Later(a.LastAt, e.LastAt), State = AlertState.Resolved,
                    ResolvedBy = e.Meta.Actor, ResolvedAt = e.Meta.At };
                var history = Resolved.Add(resolved);
                if (history.Count > limits.MaxResolved) history = history.RemoveRange(0, history.Count - limits.MaxResolved);
                return this with { Unresolved = Unresolved.Remove(a.Key), Resolved = history };
            case AlertPaged e:
                if (FindUnresolved(e.AlertId) is { } open) return Put(Paged(open, e.Action));
                var index = Resolved.FindIndex(a => a.Id == e.AlertId);
                return index < 0 ? this : this with { Resolved = Resolved.SetItem(index, Paged(Resolved[index], e.Action)) };
            case AlertRepeated or AlertAcknowledged or AlertResolved:
                return this; // its alert left the bounded history
            default:
                throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Not an alert event.");
        }
    }

    private AlertsState Put(Alert alert) => this with { Unresolved = Unresolved.SetItem(alert.Key, alert) };

    private Alert? FindUnresolved(string id) => Unresolved.Values.FirstOrDefault(a => a.Id == id);

    private static Alert Paged(Alert alert, string action) =>
        action == PageActions.Trigger ? alert with { TriggerPaged = true } : alert with { ResolvePaged = true };

    private static string IdOf(long number) => "alert-" + number.ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];

    public static string Name(AlertSeverity severity) => severity.ToString().ToLowerInvariant();

    public static string Name(AlertState state) => state.ToString().ToLowerInvariant();
}

/// <summary>The Events API v2 actions a page carries.</summary>
public static class PageActions
{
    public const string Trigger = "trigger";
    public const string Resolve = "resolve";
}
