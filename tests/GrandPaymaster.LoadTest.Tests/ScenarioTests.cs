using GrandPaymaster.LoadTest.Engine;

namespace GrandPaymaster.LoadTest.Tests;

public sealed class ScenarioTests
{
    private static readonly Func<long, CancellationToken, Task<StepResult>> Step = (_, _) => Task.FromResult(StepResult.Ok());

    [Theory]
    [InlineData(0.0)]
    [InlineData(-5.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_rate_that_is_not_a_positive_finite_number_is_rejected(double rate) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Scenario("s", Step) { Rate = rate });

    [Fact]
    public void A_max_in_flight_below_one_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Scenario("s", Step) { MaxInFlight = 0 });

    [Fact]
    public void A_drain_timeout_above_ten_seconds_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Scenario("s", Step) { DrainTimeout = TimeSpan.FromSeconds(11) });

    [Fact]
    public void A_zero_duration_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Scenario("s", Step) { Duration = TimeSpan.Zero });
}
