using System.Collections.Immutable;
using System.Numerics;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;

namespace GrandPaymaster.Domain.Tests.Treasury;

/// <summary>
/// The Orchestrator's decisions without an actor system, on an injected clock and a seeded RNG: priorities, a Critical superseding a
/// queued less urgent need, one top-up in flight per chain, backoff with jitter, one page per escalation and one resolve, the spend
/// rate and runway. A small journal plays the actor: every event is applied as it is decided, and <see cref="Recovered"/> folds it again.
/// </summary>
public sealed class OrchestratorStateTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly ChainId A = new(31337);
    private static readonly ChainId B = new(31338);
    private static readonly Address W1 = Address.Parse("0x" + new string('1', 40));
    private static readonly Address W2 = Address.Parse("0x" + new string('2', 40));
    private static readonly Address W3 = Address.Parse("0x" + new string('3', 40));

    private static readonly TreasurySettings Settings = new TreasurySettings
    {
        Thresholds = new WalletThresholds(Eth(10), Eth(25), Eth(100), Eth(200), Eth(10)),
        Retry = new RetryPolicy(TimeSpan.FromSeconds(2), 2, TimeSpan.FromSeconds(30), 0.2),
        PageAfterFailures = 3,
    }.Checked();

    private readonly List<IOrchestratorEvent> _journal = [];
    private OrchestratorState _state = OrchestratorState.Empty;
    private DateTimeOffset _now = Start;
    private int _ids;

    private static Wei Eth(decimal ether) => new(new BigInteger(ether * 1_000_000m) * BigInteger.Pow(10, 12));

    [Theory]
    [InlineData(5, RebalancePriority.Critical)]
    [InlineData(10, RebalancePriority.Warning)]
    [InlineData(24.9, RebalancePriority.Warning)]
    [InlineData(25, RebalancePriority.Normal)]
    [InlineData(90, RebalancePriority.Normal)]
    [InlineData(90.5, null)] // less than min-top-up short of target
    [InlineData(150, null)]
    public void A_balance_is_classified_by_the_wallets_thresholds(double ether, RebalancePriority? expected) =>
        Assert.Equal(expected, Settings.Thresholds.Classify(Eth((decimal)ether)));

    [Fact]
    public void A_need_fills_the_wallet_to_target_and_a_second_reading_of_the_same_urgency_queues_nothing()
    {
        var queued = Assert.IsType<TopUpQueued>(Assert.Single(Observe(A, W1, 20)));
        Assert.Equal((RebalancePriority.Warning, Eth(80)), (queued.Priority, queued.Amount));
        Assert.Equal("system:orchestrator", queued.Meta.Actor);

        Assert.Empty(Observe(A, W1, 19));
        Assert.Empty(Observe(A, W1, 30)); // less urgent: the queued need stays
        Assert.Single(_state.Needs);
    }

    [Fact]
    public void A_newer_critical_supersedes_the_queued_normal_need_and_is_served_before_every_queued_warning_or_normal()
    {
        Observe(A, W1, 50); // Normal
        Observe(A, W2, 20); // Warning
        Observe(A, W3, 60); // Normal
        var superseded = Assert.IsType<TopUpSuperseded>(Assert.Single(Observe(A, W3, 2)));
        Assert.Equal(RebalancePriority.Critical, superseded.Priority);
        Assert.Equal(Eth(98), superseded.Amount);

        Assert.Equal([W3, W2, W1], _state.Queue.Select(n => n.Wallet));
        Assert.Equal(W3, Assert.Single(_state.Due(_now)).Wallet);
        Assert.Equal(3, _state.Needs.Count);
    }

    [Fact]
    public void Within_a_priority_the_queue_is_first_come_first_served()
    {
        Observe(A, W2, 60);
        Observe(A, W1, 60);
        Observe(A, W3, 60);

        Assert.Equal([W2, W1, W3], _state.Queue.Select(n => n.Wallet));
    }

    [Fact]
    public void Only_one_top_up_per_chain_is_in_flight_while_other_chains_proceed()
    {
        Observe(A, W1, 5);
        Observe(A, W2, 5);
        Observe(B, W1, 50);
        var due = _state.Due(_now);
        Assert.Equal([(A, W1), (B, W1)], due.Select(n => (n.ChainId, n.Wallet)));
        foreach (var need in due) Apply(_state.Start(need, need.Amount, _now));

        Assert.Empty(_state.Due(_now)); // W2 of chain A waits for W1's top-up
        Assert.Empty(Observe(A, W1, 1)); // a need in flight is left to its request
        var request = _state.InFlight.First(n => n.ChainId == A).RequestId!;
        Apply(_state.Complete(request, "0xabc", Eth(95), _now));

        Assert.Equal(W2, Assert.Single(_state.Due(_now)).Wallet);
    }

    [Fact]
    public void A_queued_need_the_wallet_no_longer_has_is_cancelled()
    {
        Observe(A, W1, 50);
        Assert.IsType<TopUpCancelled>(Assert.Single(Observe(A, W1, 99.5m)));
        Assert.Empty(_state.Needs);
    }

    [Fact]
    public void Failed_top_ups_back_off_exponentially_with_seeded_jitter_up_to_the_cap()
    {
        var rng = new Random(42);
        var expectedRng = new Random(42);
        Observe(A, W1, 5);
        var waits = new List<TimeSpan>();
        for (var i = 1; i <= 6; i++)
        {
            var need = Assert.Single(_state.Due(_now));
            var started = _state.Start(need, need.Amount, _now);
            Assert.Equal($"{need.NeedId}.{i}", started.RequestId); // a fresh request id per attempt: a failed one paid nothing
            Apply(started);
            var failed = Assert.IsType<TopUpFailed>(Apply(_state.Fail(started.RequestId, "vault_rpc_down", "no endpoint answers", true, _now, rng.NextDouble(), Settings))[0]);
            var wait = failed.NextAttemptAt - _now;
            waits.Add(wait);
            Assert.Empty(_state.Due(_now + wait - TimeSpan.FromMilliseconds(1)));
            _now = failed.NextAttemptAt;
        }

        double[] ceilings = [2, 4, 8, 16, 30, 30];
        for (var i = 0; i < ceilings.Length; i++)
        {
            var expected = ceilings[i] * (1 - 0.2 * expectedRng.NextDouble());
            Assert.Equal(expected, waits[i].TotalSeconds, 3);
            Assert.InRange(waits[i].TotalSeconds, ceilings[i] * 0.8, ceilings[i]);
        }
    }

    [Fact]
    public void After_n_failures_the_chain_is_paged_once_and_resolved_once_when_a_top_up_succeeds_again()
    {
        Observe(A, W1, 5);
        for (var i = 1; i <= 5; i++) FailNext(A);

        var escalated = _journal.OfType<TopUpEscalated>().ToArray();
        Assert.Single(escalated); // at the third failure, not again at the fourth and fifth
        Assert.Equal(3, Assert.IsType<TopUpFailed>(_journal[_journal.IndexOf(escalated[0]) - 1]).Failures);
        Assert.Equal("topup_failing:chain 31337", escalated[0].DedupKey);
        Assert.Equal((escalated[0].ChainId, PageAction.Trigger), Owed().Single());

        Apply(new PageSent(A, PageAction.Trigger, escalated[0].DedupKey, Meta.System("orchestrator", "delivered", _now)));
        Assert.Empty(Owed()); // the trigger was taken: a restart owes nothing
        Assert.Empty(Recovered().OwedPages);

        _now = _state.NextRetryAt!.Value;
        var need = Assert.Single(_state.Due(_now));
        var started = Apply(_state.Start(need, need.Amount, _now))[0] as TopUpStarted;
        var done = Apply(_state.Complete(started!.RequestId, "0xabc", need.Amount, _now));
        Assert.IsType<TopUpRecovered>(done[1]);
        Assert.Equal((A, PageAction.Resolve), Owed().Single());

        Apply(new PageSent(A, PageAction.Resolve, escalated[0].DedupKey, Meta.System("orchestrator", "delivered", _now)));
        Assert.Empty(Owed());
        Assert.Empty(_state.Escalations);
    }

    [Fact]
    public void A_refusal_pages_at_once_and_waits_the_cap()
    {
        Observe(A, W1, 5);
        var need = Assert.Single(_state.Due(_now));
        var started = (TopUpStarted)Apply(_state.Start(need, need.Amount, _now))[0];
        var events = Apply(_state.Fail(started.RequestId, "over_daily_limit", "limit reached", false, _now, 0.5, Settings));

        Assert.Equal(_now + Settings.Retry.Cap, ((TopUpFailed)events[0]).NextAttemptAt);
        Assert.IsType<TopUpEscalated>(events[1]);
    }

    [Fact]
    public void A_chain_that_recovers_before_its_trigger_was_paged_owes_no_resolve_but_a_trigger_taken_meanwhile_does()
    {
        Observe(A, W1, 5);
        for (var i = 1; i <= 3; i++) FailNext(A);
        _now = _state.NextRetryAt!.Value;
        var need = Assert.Single(_state.Due(_now));
        var started = (TopUpStarted)Apply(_state.Start(need, need.Amount, _now))[0];
        Apply(_state.Complete(started.RequestId, "0xabc", need.Amount, _now));
        Assert.Empty(Owed()); // no trigger went out: nothing to resolve

        // The trigger was under way and was taken after all: its resolve is owed.
        Apply(new PageSent(A, PageAction.Trigger, OrchestratorState.DedupKeyOf(A), Meta.System("orchestrator", "late", _now)));
        Assert.Equal((A, PageAction.Resolve), Owed().Single());
    }

    [Fact]
    public void Answers_about_requests_not_in_flight_change_nothing()
    {
        Observe(A, W1, 5);
        Assert.Empty(_state.Complete("need-x.1", "0xabc", Eth(1), _now));
        Assert.Empty(_state.Fail("need-x.1", "e", "r", true, _now, 0, Settings));
        Assert.Empty(_state.Broadcast("need-x.1", "0xabc", _now));
    }

    [Fact]
    public void The_journal_folds_back_into_the_same_state()
    {
        Observe(A, W1, 50);
        Observe(A, W1, 5);
        Observe(B, W2, 20);
        FailNext(A);
        var need = _state.Due(_now).Single(n => n.ChainId == B);
        var started = (TopUpStarted)Apply(_state.Start(need, need.Amount, _now))[0];
        Apply(_state.Broadcast(started.RequestId, "0xfeed", _now));

        var recovered = Recovered();
        Assert.Equal(Json(_state), Json(recovered));
        Assert.Equal("0xfeed", recovered.ByRequest(started.RequestId)!.TxHash);
    }

    [Fact]
    public void Spend_rate_and_runway_come_from_the_decreases_within_the_window()
    {
        var book = SpendBook.Empty;
        var window = TimeSpan.FromHours(1);
        book = book.Observe(A, W1, new BalanceSample(Start, Eth(100)), window, 10);
        Assert.Null(book.RunwaySeconds(A, W1)); // one reading: no rate
        book = book.Observe(A, W1, new BalanceSample(Start.AddMinutes(10), Eth(90)), window, 10);
        book = book.Observe(A, W1, new BalanceSample(Start.AddMinutes(20), Eth(150)), window, 10); // a top-up is not spending
        book = book.Observe(A, W1, new BalanceSample(Start.AddMinutes(30), Eth(140)), window, 10);

        Assert.Equal(Eth(40), book.SpendPerHour(A, W1)); // 20 ether in 30 minutes
        Assert.Equal(140.0 / 40 * 3600, book.RunwaySeconds(A, W1)!.Value, 3);

        // Older than the window: dropped; a wallet that stopped spending has no runway.
        book = book.Observe(A, W1, new BalanceSample(Start.AddMinutes(95), Eth(140)), window, 10);
        book = book.Observe(A, W1, new BalanceSample(Start.AddMinutes(96), Eth(140)), window, 10);
        Assert.Equal(Eth(0), book.SpendPerHour(A, W1));
        Assert.Null(book.RunwaySeconds(A, W1));
    }

    [Fact]
    public void The_spend_book_keeps_at_most_max_samples_per_wallet()
    {
        var book = SpendBook.Empty;
        for (var i = 0; i < 50; i++) book = book.Observe(A, W1, new BalanceSample(Start.AddSeconds(i), Eth(100 - i)), TimeSpan.FromDays(1), 8);

        Assert.Equal(8, book.Samples[(A.Value, W1)].Count);
        Assert.Equal(Eth(51), book.Latest(A, W1)!.Balance);
    }

    [Fact]
    public void The_view_shows_thresholds_runway_queue_and_in_flight()
    {
        var book = SpendBook.Empty.Observe(A, W1, new BalanceSample(Start, Eth(9)), TimeSpan.FromHours(1), 10)
            .Observe(A, W1, new BalanceSample(Start.AddMinutes(1), Eth(8)), TimeSpan.FromHours(1), 10);
        Observe(A, W1, 8);
        Observe(A, W2, 50);
        var need = _state.Due(_now).Single();
        Apply(_state.Start(need, need.Amount, _now));

        var view = TreasuryViews.Build(_state, book, Settings, _now, vaultConnected: true);

        var wallet = Assert.Single(view.Wallets);
        Assert.Equal((RebalancePriority.Critical, 480.0), (wallet.Need!.Value, wallet.RunwaySeconds!.Value));
        Assert.Equal(W1, Assert.Single(view.InFlight).Wallet);
        Assert.Equal(W2, Assert.Single(view.Queue).Wallet);
        Assert.Equal(480.0, view.RunwayOf(A));
        Assert.Null(view.RunwayOf(B));
    }

    private ImmutableArray<IOrchestratorEvent> Observe(ChainId chain, Address wallet, decimal ether) =>
        Apply(_state.Observe(chain, wallet, Eth(ether), Settings.ThresholdsOf(chain.Value), $"need-{++_ids}", _now));

    private void FailNext(ChainId chain)
    {
        if (_state.NextRetryAt is { } due && due > _now) _now = due;
        var need = _state.Due(_now).Single(n => n.ChainId == chain);
        var started = (TopUpStarted)Apply(_state.Start(need, need.Amount, _now))[0];
        Apply(_state.Fail(started.RequestId, "vault_rpc_down", "no endpoint answers", true, _now, 0.5, Settings));
    }

    private IEnumerable<(ChainId, string)> Owed() => _state.OwedPages.Select(p => (p.Escalation.ChainId, p.Action));

    private ImmutableArray<IOrchestratorEvent> Apply(params IOrchestratorEvent[] events) => Apply(events.ToImmutableArray());

    private ImmutableArray<IOrchestratorEvent> Apply(ImmutableArray<IOrchestratorEvent> events)
    {
        foreach (var e in events)
        {
            _state = _state.Apply(e);
            _journal.Add(e);
        }

        return events;
    }

    private OrchestratorState Recovered() => _journal.Aggregate(OrchestratorState.Empty, (s, e) => s.Apply(e));

    private static string Json(OrchestratorState s) =>
        System.Text.Json.JsonSerializer.Serialize(new { needs = s.Needs.OrderBy(n => n.Key).Select(n => n.Value.ToString()), escalations = s.Escalations.Values.Select(e => e.ToString()), s.Sequence });
}
