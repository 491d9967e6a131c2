using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Node.Policy;
using Microsoft.Extensions.Time.Testing;

namespace GrandPaymaster.Node.Tests;

/// <summary>THROTTLED at the edge (S7) with a fake clock: the token bucket, surge detection against the dApp's own baseline, and exit.</summary>
public sealed class ThrottleGuardTests : IDisposable
{
    private static readonly ThrottleSettings Settings = new(TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(10), 10, 20);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    private readonly List<ThrottleChange> _changes = [];
    private readonly ThrottleGuard _guard;

    public ThrottleGuardTests() => _guard = new ThrottleGuard(new QuoteRateSettings(5, 2), Settings, _clock, c => { lock (_changes) _changes.Add(c); });

    private static DirectoryEntry Dapp(string id, int? rate = null) => new(DappId.Parse(id), "hash", false, rate, 1);

    [Fact]
    public void A_dapp_that_empties_its_bucket_is_throttled_for_the_cooldown_alone_and_leaves_it_once()
    {
        var spammer = Dapp("spammer");
        var answers = Enumerable.Range(0, 11).Select(_ => _guard.TryQuote(spammer)).ToArray();

        Assert.All(answers[..10], a => Assert.True(a.Allowed));
        Assert.Equal((false, 30), answers[10]);
        Assert.False(_guard.TryQuote(spammer).Allowed);
        Assert.True(_guard.TryQuote(Dapp("calm")).Allowed);
        var entered = Assert.Single(_changes);
        Assert.True(entered.Throttled);
        Assert.Contains("quote rate above 5/s", entered.Reason);

        _clock.Advance(TimeSpan.FromSeconds(31));

        // Left once, by the guard's own timer (the bucket refills in real time: S7 on a node shows it served again).
        Assert.Equal(2, _changes.Count);
        Assert.False(_changes[1].Throttled);
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(2, _changes.Count);
    }

    [Fact]
    public void A_surge_far_above_the_dapps_own_baseline_throttles_it_even_within_its_rate()
    {
        var dapp = Dapp("steady", rate: 1_000);
        for (var i = 0; i < 60; i++)
        {
            Assert.True(_guard.TryQuote(dapp).Allowed);
            _clock.Advance(TimeSpan.FromSeconds(10));
        }

        var refused = Enumerable.Range(0, 300).Select(_ => _guard.TryQuote(dapp)).Count(a => !a.Allowed);

        Assert.True(refused > 0);
        Assert.Contains("surge", Assert.Single(_changes).Reason);
    }

    [Fact]
    public void Without_a_baseline_yet_a_busy_new_dapp_is_limited_only_by_its_bucket()
    {
        var dapp = Dapp("new", rate: 1_000);

        Assert.All(Enumerable.Range(0, 300).Select(_ => _guard.TryQuote(dapp)), a => Assert.True(a.Allowed));
        Assert.Empty(_changes);
    }

    public void Dispose() => _guard.Dispose();
}

/// <summary>The budget of requests without a valid key, per client IP.</summary>
public sealed class IpBudgetTests
{
    [Fact]
    public void An_ip_gets_its_burst_then_waits_and_another_ip_is_not_affected()
    {
        var clock = new FakeTimeProvider();
        var budget = new IpBudget(new UnauthenticatedBudgetSettings(PerSecond: 2, Burst: 3, Slots: 4096), clock);
        var attacker = System.Net.IPAddress.Parse("203.0.113.7");

        Assert.All(Enumerable.Range(0, 3).Select(_ => budget.TryTake(attacker)), a => Assert.True(a.Allowed));
        Assert.Equal((false, 1), budget.TryTake(attacker));
        Assert.True(budget.TryTake(System.Net.IPAddress.Parse("198.51.100.1")).Allowed);

        clock.Advance(TimeSpan.FromSeconds(0.5));
        Assert.True(budget.TryTake(attacker).Allowed);
    }
}
