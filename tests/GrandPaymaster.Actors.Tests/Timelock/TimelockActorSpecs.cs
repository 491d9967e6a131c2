using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Tests.Fakes;
using GrandPaymaster.Actors.Timelock;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Timelock;
using Xunit.Abstractions;
using static GrandPaymaster.Domain.Timelock.TimelockProtocol;

namespace GrandPaymaster.Actors.Tests.Timelock;

/// <summary>The timelock actor on a real SQLite journal and a manual clock: its settings, its answers after each write, expiry, recovery.</summary>
public sealed class TimelockActorSpecs : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private readonly TempJournal _journal;

    private readonly TimelockPolicy _policy = TimelockHocon.Load("""
        gpm.timelock.delays."chain.disable" = 30s
        gpm.timelock.execution-window = 1m
        gpm.timelock.max-scheduled = 2
        """);

    public TimelockActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private TimelockActorSpecs(TempJournal journal, ITestOutputHelper output) : base(journal.Config, output: output) => _journal = journal;

    [Fact]
    public void The_settings_come_from_hocon_timelock_with_the_operators_overlay_per_kind()
    {
        var defaults = TimelockHocon.Load("");

        Assert.Equal(TimeSpan.FromHours(24), defaults.DelayOf("chain.disable"));
        Assert.Equal(TimeSpan.FromHours(1), defaults.DelayOf("chain.enable"));
        Assert.Equal(TimeSpan.FromHours(24), defaults.DelayOf("dapp.surcharge"));
        Assert.Equal(TimeSpan.FromHours(24), defaults.DelayOf("operator.grant"));
        Assert.Equal((1_000, TimeSpan.FromDays(7)), (defaults.MaxScheduled, defaults.ExecutionWindow));
        Assert.Equal(TimeSpan.FromSeconds(30), _policy.DelayOf("chain.disable"));
        Assert.Equal(TimeSpan.FromHours(1), _policy.DelayOf("chain.enable")); // not overlaid: the file's value
        Assert.Equal(2, _policy.MaxScheduled);
        Assert.Throws<InvalidOperationException>(() => TimelockHocon.Load("gpm.timelock.max-scheduled = 0"));
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("10s")]
    [InlineData("50s")] // exactly the budget: the record may arrive as the lease ends
    public void A_claim_lease_not_longer_than_an_execution_may_take_is_refused_at_start_naming_the_setting(string lease)
    {
        var error = Assert.Throws<InvalidOperationException>(() => TimelockHocon.Load($"gpm.timelock.claim-lease = {lease}"));

        Assert.Contains("gpm.timelock.claim-lease", error.Message);
        Assert.Contains(TimelockExecutionBudget.Total.ToString(), error.Message);
        Assert.Throws<InvalidOperationException>(() => TimelockHocon.Checked(new TimelockPolicy { ClaimLease = TimeSpan.Zero }));
    }

    [Fact]
    public void The_claim_lease_outlasts_the_edges_execution_budget_by_default_and_a_longer_one_is_accepted()
    {
        Assert.Equal(TimeSpan.FromSeconds(50), TimelockExecutionBudget.Total); // claim answer 10 s + apply 30 s + record 10 s
        Assert.True(TimelockHocon.Load("").ClaimLease > TimelockExecutionBudget.Total);
        Assert.True(new TimelockPolicy().ClaimLease > TimelockExecutionBudget.Total);
        Assert.Equal(TimeSpan.FromSeconds(51), TimelockHocon.Load("gpm.timelock.claim-lease = 51s").ClaimLease);
    }

    [Fact]
    public async Task Changes_survive_a_restart_with_their_status_and_a_missed_window_expires_by_an_event()
    {
        var timelock = Start();
        var first = await timelock.Ask<TimelockChange>(Schedule(), Wait);
        var second = await timelock.Ask<TimelockChange>(Schedule(), Wait);
        Assert.Equal(TimelockCodes.Full, (await timelock.Ask<Refused>(Schedule(), Wait)).Code);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TimelockCodes.NotReady, (await timelock.Ask<Refused>(new ClaimExecution(first.Id, Meta()), Wait)).Code);
        _clock.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(first.Id, (await timelock.Ask<TimelockChange>(new ClaimExecution(first.Id, Meta()), Wait)).Id);
        var executed = await timelock.Ask<TimelockChange>(new CompleteExecution(first.Id, "done", Meta()), Wait);
        Assert.Equal(TimelockStatus.Executed, executed.Status);

        // The second change's window (eta + 1 min) passes: the actor's timer journals its expiry.
        _clock.Advance(TimeSpan.FromMinutes(2));
        await AwaitAssertAsync(async () =>
            Assert.Equal(TimelockStatus.Expired, (await timelock.Ask<Changes>(new GetChanges(null), Wait)).Items.Single(c => c.Id == second.Id).Status),
            Wait);

        await ShutdownAsync(timelock);
        var recovered = Start();
        var changes = (await recovered.Ask<Changes>(new GetChanges(null), Wait)).Items;
        Assert.Equal([TimelockStatus.Executed, TimelockStatus.Expired], changes.Select(c => c.Status));
        Assert.Equal("tl-3", (await recovered.Ask<TimelockChange>(Schedule(), Wait)).Id);
    }

    private IActorRef Start() => Sys.ActorOf(TimelockActor.PropsFor(_policy, _clock));

    private async Task ShutdownAsync(IActorRef actor)
    {
        Watch(actor);
        actor.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(actor, Wait);
    }

    private ScheduleChange Schedule() => new("chain.disable", """{"chainId":31337}""", "chain 31337", Meta());

    private Meta Meta() => new(_clock.GetUtcNow(), "operator:alice", "test", "c-1");

    protected override void AfterAll()
    {
        base.AfterAll();
        _journal.Dispose();
    }
}
