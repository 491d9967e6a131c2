using GrandPaymaster.LoadTest.Engine;

namespace GrandPaymaster.LoadTest.Tests;

public sealed class LatencyRegressionTests
{
    [Theory]
    [InlineData(2.0, 3.0, true)]
    [InlineData(2.0, 3.01, false)]
    [InlineData(4.99, 5.99, true)]
    [InlineData(10.0, 11.9, true)]
    [InlineData(10.0, 12.1, false)]
    [InlineData(5.0, 5.9, true)]
    [InlineData(5.0, 6.1, false)]
    public void A_latency_holds_within_20_percent_or_one_ms_below_a_5_ms_baseline(double baselineMs, double measuredMs, bool within) =>
        Assert.Equal(within, LatencyRegression.Within(baselineMs, measuredMs));

    [Fact]
    public void A_latency_that_improved_holds() => Assert.True(LatencyRegression.Within(40, 10));
}

public sealed class StatusMixTests
{
    [Fact]
    public void Outcomes_are_listed_largest_first_with_their_share()
    {
        var mix = new StatusMix();
        foreach (var outcome in (string[])["429 throttled", "401", "429 throttled", "429 throttled"]) mix.Add(outcome);

        Assert.Equal(4, mix.Total);
        Assert.Equal("429 throttled: 3 (75.00 %), 401: 1 (25.00 %)", mix.ToString());
    }

    [Fact]
    public void Outcomes_are_counted_by_prefix()
    {
        var mix = new StatusMix();
        foreach (var outcome in (string[])["429 throttled", "429 too_many_open_quotes", "201", "503 overloaded"]) mix.Add(outcome);

        Assert.Equal(2, mix.Count("429"));
        Assert.Equal(2, mix.Count("503", "429 throttled"));
        Assert.Equal(0, mix.Count("401"));
    }

    [Fact]
    public void An_empty_mix_says_so() => Assert.Equal("no answers", new StatusMix().ToString());

    [Fact]
    public void Adding_from_many_threads_loses_nothing()
    {
        var mix = new StatusMix();
        Parallel.For(0, 10_000, i => mix.Add(i % 2 == 0 ? "201" : "429 throttled"));
        Assert.Equal(5_000, mix.Count("201"));
        Assert.Equal(10_000, mix.Total);
    }
}

public sealed class CheckTests
{
    [Fact]
    public void A_check_prints_as_met_or_missed() =>
        Assert.Equal(["  [met] a: 1 ms", "  [MISSED] b: 2 ms"], new[] { new Check("a", true, "1 ms"), new Check("b", false, "2 ms") }.Select(c => c.ToString()));
}

public sealed class MemoryUseTests
{
    [Fact]
    public async Task The_peak_is_at_least_before_and_after()
    {
        var (result, memory) = await MemoryUse.WatchAsync(async () =>
        {
            await Task.Delay(250);
            return 42;
        });

        Assert.Equal(42, result);
        Assert.True(memory.WorkingSetPeak >= Math.Max(memory.WorkingSetBefore, memory.WorkingSetAfter));
        Assert.True(memory.HeapPeak >= Math.Max(memory.HeapBefore, memory.HeapAfter));
        Assert.Equal(memory.WorkingSetPeak - memory.WorkingSetBefore, memory.WorkingSetGrowth);
    }

    [Fact]
    public void Sizes_are_shown_in_megabytes() => Assert.Equal("3 MB", MemoryUse.Mb(3L * 1024 * 1024));
}
