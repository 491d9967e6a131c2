using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Timelock;
using static GrandPaymaster.Domain.Timelock.TimelockProtocol;

namespace GrandPaymaster.Domain.Tests.Timelock;

/// <summary>
/// The timelock's decisions without an actor system: scheduling with a delay per kind, cancelling, executing only after the eta and
/// only once, expiry after the execution window, and the bound on scheduled changes. A small journal plays the actor: every event
/// is applied as it is decided, and <see cref="Recovered"/> folds the journal again.
/// </summary>
public sealed class TimelockStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly TimelockPolicy Policy = new()
    {
        Delays = ImmutableDictionary<string, TimeSpan>.Empty.Add("chain.disable", TimeSpan.FromHours(24)).Add("chain.enable", TimeSpan.FromHours(1)),
        DefaultDelay = TimeSpan.FromHours(48),
        ExecutionWindow = TimeSpan.FromDays(7),
        MaxScheduled = 3,
        ClaimLease = TimeSpan.FromSeconds(60),
    };

    private readonly List<ITimelockEvent> _journal = [];
    private TimelockState _state = TimelockState.Empty;
    private DateTimeOffset _now = Start;

    [Fact]
    public void A_scheduled_change_gets_the_delay_of_its_kind_an_id_and_who_scheduled_it_and_why()
    {
        var disable = Schedule("chain.disable", """{"chainId":31337}""");
        var enable = Schedule("chain.enable", """{"chainId":31337}""");
        var other = Schedule("dapp.surcharge", """{"dappId":"acme","surchargeBps":2500}""");

        Assert.Equal(("tl-1", Start + TimeSpan.FromHours(24), Start + TimeSpan.FromHours(24) + TimeSpan.FromDays(7)), (disable.Id, disable.Eta, disable.ExpiresAt));
        Assert.Equal(("tl-2", Start + TimeSpan.FromHours(1)), (enable.Id, enable.Eta));
        Assert.Equal(Start + TimeSpan.FromHours(48), other.Eta); // not listed: the default delay
        Assert.Equal(("operator:alice", "maintenance of the chain", TimelockStatus.Scheduled), (disable.ScheduledBy, disable.Reason, disable.Status));
        var scheduled = Assert.IsType<ChangeScheduled>(_journal[0]);
        Assert.Equal(("operator:alice", Start), (scheduled.Meta.Actor, scheduled.Meta.At));
        Assert.Equal(["tl-1", "tl-2", "tl-3"], _state.List(TimelockStatus.Scheduled).Select(c => c.Id));
    }

    [Fact]
    public void A_cancelled_change_records_who_and_why_and_can_neither_be_executed_nor_cancelled_again()
    {
        var change = Schedule("chain.disable", "{}");

        var cancelled = Assert.IsType<TimelockChange>(Decide(_state.Decide(new CancelChange(change.Id, Meta("operator:bob", "not needed any more")), _now)));

        Assert.Equal((TimelockStatus.Cancelled, "operator:bob", "not needed any more", Start), (cancelled.Status, cancelled.CancelledBy, cancelled.CancelReason, cancelled.CancelledAt));
        _now += TimeSpan.FromDays(2);
        Assert.Equal(TimelockCodes.Cancelled, Claim(change.Id).Code);
        Assert.Equal(TimelockCodes.Cancelled, Assert.IsType<Refused>(Decide(_state.Decide(new CancelChange(change.Id, Meta("operator:bob", "again")), _now))).Code);
        Assert.Single(_journal.OfType<ChangeCancelled>());
    }

    [Fact]
    public void An_execution_before_the_eta_is_refused_with_the_eta_and_journals_nothing()
    {
        var change = Schedule("chain.disable", "{}");
        _now += TimeSpan.FromHours(23);

        var refused = Claim(change.Id);

        Assert.Equal((TimelockCodes.NotReady, change.Eta), (refused.Code, refused.Eta));
        Assert.Contains("3600 s", refused.Message);
        Assert.Single(_journal);
    }

    [Fact]
    public void After_the_eta_a_change_is_executed_once_and_the_event_says_who_scheduled_who_executed_when_and_the_result()
    {
        var change = Schedule("chain.disable", "{}");
        _now = change.Eta;

        Assert.IsType<TimelockChange>(ClaimReply(change.Id));
        // A second execution while the first is under way is refused: the handler runs once.
        Assert.Equal(TimelockCodes.Executing, Claim(change.Id).Code);
        Assert.Equal(TimelockCodes.Executing, Assert.IsType<Refused>(Decide(_state.Decide(new CancelChange(change.Id, Meta("operator:bob", "too late")), _now))).Code);
        _now += TimeSpan.FromSeconds(2);
        var executed = Assert.IsType<TimelockChange>(Decide(_state.Decide(new CompleteExecution(change.Id, "the pool of chain 31337 is disabled", Meta("operator:carol", "go")), _now)));

        Assert.Equal((TimelockStatus.Executed, "operator:carol", _now, "the pool of chain 31337 is disabled"),
            (executed.Status, executed.ExecutedBy, executed.ExecutedAt, executed.Result));
        var @event = Assert.IsType<ChangeExecuted>(_journal[^1]);
        Assert.Equal(("operator:alice", "operator:carol", "chain.disable"), (@event.ScheduledBy, @event.Meta.Actor, @event.Kind));
        Assert.Equal(TimelockCodes.AlreadyExecuted, Claim(change.Id).Code);
        // A repeated completion answers the executed change and journals nothing more.
        Assert.Same(_state.Items[change.Id], Decide(_state.Decide(new CompleteExecution(change.Id, "again", Meta("operator:carol", "go")), _now)));
        Assert.Single(_journal.OfType<ChangeExecuted>());
        Assert.Equal(_state, Recovered());
    }

    [Fact]
    public void A_failed_execution_is_journaled_and_leaves_the_change_scheduled_for_another_try()
    {
        var change = Schedule("chain.disable", "{}");
        _now = change.Eta;
        ClaimReply(change.Id);

        var failed = Assert.IsType<TimelockChange>(Decide(_state.Decide(new FailExecution(change.Id, "the pool did not answer", Meta("operator:carol", "go")), _now)));

        Assert.Equal((TimelockStatus.Scheduled, 1, "the pool did not answer"), (failed.Status, failed.FailedAttempts, failed.LastError));
        Assert.IsType<TimelockChange>(ClaimReply(change.Id));
    }

    [Fact]
    public void A_claim_whose_lease_ran_out_or_that_a_restart_forgot_lets_another_execution_start()
    {
        var change = Schedule("chain.disable", "{}");
        _now = change.Eta;
        ClaimReply(change.Id);

        _state = _state.AfterRecovery();
        Assert.IsType<TimelockChange>(ClaimReply(change.Id));
        _now += Policy.ClaimLease;
        Assert.IsType<TimelockChange>(ClaimReply(change.Id));
    }

    [Fact]
    public void A_change_not_executed_within_the_window_after_its_eta_expires_and_cannot_be_executed()
    {
        var change = Schedule("chain.enable", "{}");
        _now = change.ExpiresAt;
        Assert.Empty(_state.ExpiredAt(_now)); // the last moment of the window still counts
        Assert.Empty(_state.ExpiredAt(change.Eta));

        _now += TimeSpan.FromSeconds(1);
        Assert.Equal(TimelockCodes.Expired, Claim(change.Id).Code); // refused at once, before the expiry is journaled
        var expired = Assert.Single(_state.ExpiredAt(_now));
        Apply(new ChangeExpired(expired.Id, Domain.Common.Meta.System("timelock", "window over", _now)));

        Assert.Equal((TimelockStatus.Expired, _now), (_state.Items[change.Id].Status, _state.Items[change.Id].ExpiredAt));
        Assert.Equal(TimelockCodes.Expired, Claim(change.Id).Code);
        Assert.Empty(_state.ExpiredAt(_now + TimeSpan.FromDays(1)));
        Assert.Equal(0, _state.ScheduledCount);
    }

    [Fact]
    public void A_change_under_execution_does_not_expire_under_it()
    {
        var change = Schedule("chain.enable", "{}");
        _now = change.ExpiresAt;
        ClaimReply(change.Id);

        Assert.Empty(_state.ExpiredAt(_now + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Beyond_the_bound_scheduling_is_refused_until_a_change_closes()
    {
        var first = Schedule("chain.disable", "{}");
        Schedule("chain.disable", "{}");
        Schedule("chain.disable", "{}");

        var (reply, @event) = _state.Decide(new ScheduleChange("chain.disable", "{}", "chain 1", Meta("operator:alice", "one too many")), _now, Policy);

        Assert.Null(@event);
        Assert.Equal(TimelockCodes.Full, Assert.IsType<Refused>(reply).Code);
        Decide(_state.Decide(new CancelChange(first.Id, Meta("operator:bob", "make room")), _now));
        Assert.Equal("tl-4", Schedule("chain.disable", "{}").Id);
    }

    [Fact]
    public void Closed_changes_are_kept_up_to_their_bound_and_the_oldest_leave_memory_first()
    {
        var policy = Policy with { MaxScheduled = 10_000 };
        for (var i = 0; i < TimelockState.RetainClosed + 5; i++)
        {
            var (change, scheduled) = _state.Decide(new ScheduleChange("chain.disable", "{}", "chain 1", Meta("operator:alice", "bulk")), _now, policy);
            Apply(scheduled!);
            Decide(_state.Decide(new CancelChange(((TimelockChange)change).Id, Meta("operator:alice", "bulk")), _now));
        }

        Assert.Equal(TimelockState.RetainClosed, _state.Items.Count);
        Assert.False(_state.Items.ContainsKey("tl-5"));
        Assert.True(_state.Items.ContainsKey("tl-6"));
        Assert.Equal(0, _state.ScheduledCount);
        Assert.Equal(TimelockCodes.NotFound, Claim("tl-1").Code);
        Assert.Equal(_state, Recovered());
    }

    [Fact]
    public void Unknown_changes_are_refused_as_not_found()
    {
        Assert.Equal(TimelockCodes.NotFound, Claim("tl-42").Code);
        Assert.Equal(TimelockCodes.NotFound, Assert.IsType<Refused>(Decide(_state.Decide(new CancelChange("tl-42", Meta("operator:bob", "x")), _now))).Code);
    }

    private TimelockChange Schedule(string kind, string parameters)
    {
        var reply = Decide(_state.Decide(new ScheduleChange(kind, parameters, "chain 31337", Meta("operator:alice", "maintenance of the chain")), _now, Policy));
        return Assert.IsType<TimelockChange>(reply);
    }

    private IPaymasterMessage ClaimReply(string id)
    {
        var (reply, state) = _state.Claim(new ClaimExecution(id, Meta("operator:carol", "go")), _now, Policy);
        _state = state;
        return reply;
    }

    private Refused Claim(string id) => Assert.IsType<Refused>(ClaimReply(id));

    private IPaymasterMessage Decide<TEvent>((IPaymasterMessage Reply, TEvent? Event) decision) where TEvent : class, ITimelockEvent
    {
        if (decision.Event is not null) Apply(decision.Event);
        return decision.Reply;
    }

    private void Apply(ITimelockEvent @event)
    {
        _journal.Add(@event);
        _state = _state.Apply(@event);
    }

    private TimelockState Recovered() => _journal.Aggregate(TimelockState.Empty, (s, e) => s.Apply(e)).AfterRecovery() with { Claims = _state.Claims };

    private Meta Meta(string actor, string reason) => new(_now - TimeSpan.FromMinutes(1), actor, reason, "c-1");
}
