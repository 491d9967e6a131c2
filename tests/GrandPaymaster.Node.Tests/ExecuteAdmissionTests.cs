using GrandPaymaster.Node.Policy;
using Microsoft.Extensions.Time.Testing;

namespace GrandPaymaster.Node.Tests;

/// <summary>The adaptive execute limit: refuse the excess at once when executes slow down, take more again when they are fast.</summary>
public sealed class ExecuteAdmissionTests
{
    private static readonly OverloadSettings Settings = new(MaxConcurrentExecutes: 64, MaxConcurrentQuotes: 512, MinConcurrentExecutes: 8,
        ExecuteLatencyTarget: TimeSpan.FromMilliseconds(150));

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Fast_executes_keep_the_ceiling_and_the_one_beyond_it_is_refused()
    {
        var admission = new ExecuteAdmission(Settings, _clock);
        for (var i = 0; i < 100; i++) Complete(admission, TimeSpan.FromMilliseconds(20));

        var slots = Enumerable.Range(0, 64).Select(_ => admission.TryEnter()).ToArray();

        Assert.All(slots, Assert.NotNull);
        Assert.Null(admission.TryEnter());
        slots[0]!.Dispose();
        Assert.NotNull(admission.TryEnter());
    }

    [Fact]
    public void Slow_executes_shrink_the_limit_to_the_floor_and_fast_ones_grow_it_back()
    {
        var admission = new ExecuteAdmission(Settings, _clock);
        for (var i = 0; i < 40; i++) Complete(admission, TimeSpan.FromMilliseconds(600));

        Assert.Equal(8, admission.Limit);
        var slots = Enumerable.Range(0, 8).Select(_ => admission.TryEnter()).ToArray();
        Assert.All(slots, Assert.NotNull);
        Assert.Null(admission.TryEnter());
        foreach (var slot in slots) slot!.Dispose();

        // About one more per limit's worth of completions: from 8 to about 45 in a thousand.
        for (var i = 0; i < 1_000; i++) Complete(admission, TimeSpan.FromMilliseconds(10));
        Assert.InRange(admission.Limit, 40, 50);
    }

    private void Complete(ExecuteAdmission admission, TimeSpan took)
    {
        var slot = admission.TryEnter();
        Assert.NotNull(slot);
        _clock.Advance(took);
        slot!.Dispose();
    }
}
