using GrandPaymaster.Domain.Alerts;

namespace GrandPaymaster.Domain.Tests.Alerts;

/// <summary>Polled health turned into raises and resolves: grace before a raise, a clear period before a resolve, flapping as repeats.</summary>
public sealed class AlertConditionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 3, 0, 0, TimeSpan.Zero);
    private static readonly AlertCondition Down = new(AlertKinds.RpcEndpointDown, "a#0", AlertSeverity.Warning, "down", TimeSpan.FromSeconds(5));

    private readonly AlertConditions _conditions = new(TimeSpan.FromSeconds(30));

    private IReadOnlyList<AlertTransition> At(int seconds, params AlertCondition[] bad) => _conditions.Observe("rpc", bad, T0.AddSeconds(seconds));

    [Fact]
    public void A_condition_is_raised_only_once_it_has_been_bad_for_its_grace()
    {
        Assert.Empty(At(0, Down));
        Assert.Empty(At(4, Down));
        Assert.True(Assert.Single(At(5, Down)).Raise);
        Assert.Empty(At(6, Down)); // still bad: nothing new
    }

    [Fact]
    public void A_blip_shorter_than_the_grace_raises_nothing()
    {
        Assert.Empty(At(0, Down));
        Assert.Empty(At(1));
        Assert.Empty(At(10, Down)); // a new grace starts
        Assert.Empty(At(14, Down));
    }

    [Fact]
    public void A_raised_condition_resolves_after_the_clear_period_and_flapping_meanwhile_raises_again_as_a_repeat()
    {
        At(0, Down);
        At(5, Down);
        Assert.Empty(At(6));          // healthy: the clear period starts
        Assert.True(Assert.Single(At(20, Down)).Raise); // bad again while clearing: a repeat
        Assert.Empty(At(21));
        Assert.Empty(At(50));
        Assert.False(Assert.Single(At(51)).Raise);      // healthy for 30 s: resolved
        Assert.Empty(At(52));
    }

    [Fact]
    public void Families_do_not_resolve_each_others_conditions()
    {
        var critical = new AlertCondition(AlertKinds.SafeMode, "chain 1", AlertSeverity.Critical, "safe");
        Assert.True(Assert.Single(_conditions.Observe("safe-mode", [critical], T0)).Raise);
        Assert.Empty(_conditions.Observe("rpc", [], T0.AddMinutes(5)));
        Assert.Empty(_conditions.Observe("safe-mode", [critical], T0.AddMinutes(5)));
    }
}
