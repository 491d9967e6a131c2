using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Domain.Tests.Alerts;

/// <summary>The alert store's decisions: de-duplication, bounds, acknowledge, resolve and owed pages, played as the actor plays them.</summary>
public sealed class AlertsStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 3, 0, 0, TimeSpan.Zero);
    private static readonly AlertLimits Limits = new(MaxUnresolved: 3, MaxResolved: 2);

    private AlertsState _state = AlertsState.Empty;

    private static Meta At(int seconds, string actor = "system:test", string reason = "test") => new(T0.AddSeconds(seconds), actor, reason, "c");

    /// <summary>Raises as the actor does: a repeat only replaces the state; new alerts go through their events.</summary>
    private (Alert Alert, IReadOnlyList<IAlertEvent> Events) Raise(string kind, string subject, AlertSeverity severity = AlertSeverity.Warning, int at = 0)
    {
        var decision = _state.Raise(new RaiseAlert(kind, severity, subject, $"{kind} on {subject}", At(at)), Limits);
        if (decision.Repeated is { } repeated) _state = repeated;
        foreach (var e in decision.Events) _state = _state.Apply(e, Limits);
        return (_state.Find(decision.Alert.Id) ?? decision.Alert, decision.Events);
    }

    private IReadOnlyList<IAlertEvent> Resolve(string kind, string subject, int at = 0)
    {
        var (_, events) = _state.Resolve(new ResolveAlert(kind, subject, At(at)), Limits);
        foreach (var e in events) _state = _state.Apply(e, Limits);
        return events;
    }

    [Fact]
    public void A_repeat_of_an_unresolved_alert_bumps_its_count_and_last_time_without_an_event()
    {
        var (first, events) = Raise(AlertKinds.RpcEndpointDown, "devnet-a#0", at: 0);
        Assert.Single(events);
        var (again, repeatEvents) = Raise(AlertKinds.RpcEndpointDown, "devnet-a#0", at: 5);

        Assert.Empty(repeatEvents);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(2, again.Count);
        Assert.Equal(T0, again.FirstAt);
        Assert.Equal(T0.AddSeconds(5), again.LastAt);
        // Another subject is another alert.
        Assert.NotEqual(first.Id, Raise(AlertKinds.RpcEndpointDown, "devnet-a#1").Alert.Id);
    }

    [Fact]
    public void Repeats_are_journaled_later_with_their_absolute_count_and_replay_to_the_same_state()
    {
        var journal = new List<IAlertEvent>();
        journal.AddRange(Raise(AlertKinds.GasSourceDegraded, "gas-price@a#0").Events);
        var id = Raise(AlertKinds.GasSourceDegraded, "gas-price@a#0", at: 1).Alert.Id;
        Raise(AlertKinds.GasSourceDegraded, "gas-price@a#0", at: 2);
        journal.AddRange(_state.RepeatsToJournal([id], At(3)));

        var replayed = journal.Aggregate(AlertsState.Empty, (s, e) => s.Apply(e, Limits));
        Assert.Equal(3, replayed.Find(id)!.Count);
        Assert.Equal(_state.Find(id), replayed.Find(id));
    }

    [Fact]
    public void An_operator_acknowledges_an_open_alert_once_and_it_stays_unresolved()
    {
        var alert = Raise(AlertKinds.SafeMode, "chain 31337", AlertSeverity.Critical).Alert;
        var (reply, ack) = _state.Acknowledge(new AcknowledgeAlert(alert.Id, At(10, "operator:alice", "looking at it")));
        Assert.NotNull(ack);
        _state = _state.Apply(ack, Limits);

        var acked = _state.Find(alert.Id)!;
        Assert.Equal(AlertState.Acknowledged, acked.State);
        Assert.Equal("operator:alice", acked.AcknowledgedBy);
        Assert.Equal(T0.AddSeconds(10), acked.AcknowledgedAt);
        Assert.Null(_state.Acknowledge(new AcknowledgeAlert(alert.Id, At(11, "operator:bob"))).Event); // again: nothing to journal
        // A repeat of an acknowledged alert counts on it and leaves it acknowledged.
        Assert.Equal(AlertState.Acknowledged, Raise(AlertKinds.SafeMode, "chain 31337", AlertSeverity.Critical, at: 12).Alert.State);
        Assert.IsType<Alert>(reply);
    }

    [Fact]
    public void Acknowledging_a_resolved_or_unknown_alert_is_refused_with_its_code()
    {
        var alert = Raise(AlertKinds.DappFrozen, "acme").Alert;
        Resolve(AlertKinds.DappFrozen, "acme");

        Assert.Equal(AlertsState.AlreadyResolved, Assert.IsType<NoAlert>(_state.Acknowledge(new AcknowledgeAlert(alert.Id, At(1))).Reply).Code);
        Assert.Equal(AlertsState.NotFound, Assert.IsType<NoAlert>(_state.Acknowledge(new AcknowledgeAlert("alert-99", At(1))).Reply).Code);
    }

    [Fact]
    public void A_resolved_alert_goes_to_the_history_and_the_next_raise_is_a_new_alert()
    {
        var first = Raise(AlertKinds.SigningSlow, "chain 1").Alert;
        Assert.Single(Resolve(AlertKinds.SigningSlow, "chain 1", at: 30));
        Assert.Empty(Resolve(AlertKinds.SigningSlow, "chain 1", at: 31)); // nothing unresolved: no event

        var resolved = _state.Find(first.Id)!;
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Equal(T0.AddSeconds(30), resolved.ResolvedAt);
        var second = Raise(AlertKinds.SigningSlow, "chain 1", at: 40).Alert;
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(1, second.Count);
        Assert.Equal([second.Id, first.Id], _state.List(null).Select(a => a.Id));
        Assert.Equal([first.Id], _state.List(AlertState.Resolved).Select(a => a.Id));
    }

    [Fact]
    public void The_history_keeps_only_the_newest_resolved_alerts()
    {
        for (var i = 0; i < 5; i++)
        {
            Raise(AlertKinds.DappFrozen, $"dapp-{i}", at: i);
            Resolve(AlertKinds.DappFrozen, $"dapp-{i}", at: i);
        }

        Assert.Equal(["dapp-4", "dapp-3"], _state.List(AlertState.Resolved).Select(a => a.Subject));
    }

    [Fact]
    public void A_full_store_evicts_the_oldest_less_severe_alert_for_a_more_severe_one_and_counts_the_rest_on_the_overflow_alert()
    {
        Raise(AlertKinds.DappFrozen, "a", AlertSeverity.Info, at: 0);
        Raise(AlertKinds.DappFrozen, "b", AlertSeverity.Info, at: 1);
        Raise(AlertKinds.RpcEndpointDown, "c", AlertSeverity.Warning, at: 2);

        // A critical alert makes room: the oldest info alert is resolved as evicted (one write with the raise).
        var (critical, events) = Raise(AlertKinds.SafeMode, "chain 1", AlertSeverity.Critical, at: 3);
        Assert.Equal(2, events.Count);
        Assert.Contains("evicted", Assert.IsType<AlertResolved>(events[0]).Meta.Reason);
        Assert.Equal(AlertState.Open, critical.State);
        Assert.DoesNotContain(_state.Unresolved.Values, a => a.Subject == "a");

        // Another info alert finds nothing less severe: it is only counted on the overflow alert.
        var (overflow, _) = Raise(AlertKinds.DappFrozen, "d", AlertSeverity.Info, at: 4);
        Assert.Equal(AlertKinds.Overflow, overflow.Kind);
        Assert.Equal(2, Raise(AlertKinds.DappFrozen, "e", AlertSeverity.Info, at: 5).Alert.Count);
        Assert.Equal(4, _state.Unresolved.Count); // the bound, plus the overflow slot

        // Room again: the overflow alert resolves with the alert that made room.
        Assert.Equal(2, Resolve(AlertKinds.RpcEndpointDown, "c", at: 6).Count);
        Assert.DoesNotContain(_state.Unresolved.Values, a => a.Kind == AlertKinds.Overflow);
    }

    [Fact]
    public void A_critical_alert_owes_one_trigger_until_paged_and_one_resolve_once_resolved()
    {
        var alert = Raise(AlertKinds.SafeMode, "chain 31337", AlertSeverity.Critical).Alert;
        Raise(AlertKinds.RpcEndpointDown, "x", AlertSeverity.Warning); // never paged
        Assert.Equal([alert.Id], _state.OwedPages.Select(a => a.Id));
        Assert.True(_state.OwedPages.Single().OwesTrigger);

        _state = _state.Apply(new AlertPaged(alert.Id, PageActions.Trigger, At(1)), Limits);
        Assert.Empty(_state.OwedPages);
        Raise(AlertKinds.SafeMode, "chain 31337", AlertSeverity.Critical, at: 2); // a repeat owes nothing
        Assert.Empty(_state.OwedPages);

        Resolve(AlertKinds.SafeMode, "chain 31337", at: 3);
        Assert.True(_state.OwedPages.Single().OwesResolve);
        _state = _state.Apply(new AlertPaged(alert.Id, PageActions.Resolve, At(4)), Limits);
        Assert.Empty(_state.OwedPages);
        Assert.Equal("safe_mode_entered:chain 31337", alert.DedupKey);
    }

    [Fact]
    public void A_critical_alert_that_resolves_before_its_trigger_was_paged_owes_no_page()
    {
        Raise(AlertKinds.SloBurning, "availability", AlertSeverity.Critical);
        Resolve(AlertKinds.SloBurning, "availability", at: 1);
        Assert.Empty(_state.OwedPages);
    }

    [Fact]
    public void Oversized_kind_subject_and_summary_are_clipped()
    {
        var decision = _state.Raise(new RaiseAlert(new string('k', 500), AlertSeverity.Info, new string('s', 5_000), new string('x', 50_000), At(0)), Limits);
        Assert.Equal(AlertKinds.MaxKindLength, decision.Alert.Kind.Length);
        Assert.Equal(AlertKinds.MaxSubjectLength, decision.Alert.Subject.Length);
        Assert.Equal(AlertKinds.MaxSummaryLength, decision.Alert.Summary.Length);
        Assert.True(decision.Alert.DedupKey.Length <= 255);
    }
}
