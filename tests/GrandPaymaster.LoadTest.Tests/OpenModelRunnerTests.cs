using System.Collections.Concurrent;
using System.Diagnostics;
using GrandPaymaster.LoadTest.Engine;

namespace GrandPaymaster.LoadTest.Tests;

public sealed class OpenModelRunnerTests
{
    private static readonly Func<long, CancellationToken, Task<StepResult>> Instant =
        (_, _) => Task.FromResult(StepResult.Ok());

    [Fact]
    public async Task A_200_per_second_scenario_for_2_seconds_records_400_requests_paced_over_2_seconds_and_no_failures()
    {
        var invokedAt = new ConcurrentDictionary<long, long>();
        var scenario = new Scenario("steady", (sequence, _) =>
        {
            invokedAt[sequence] = Stopwatch.GetTimestamp();
            return Task.FromResult(StepResult.Ok());
        })
        { Rate = 200, Duration = TimeSpan.FromSeconds(2) };

        var stats = await OpenModelRunner.RunAsync(scenario);

        // The schedule is fixed, so the count is exact; only pacing is subject to timing.
        Assert.Equal(400, stats.Requests);
        Assert.Equal(400, stats.Ok);
        Assert.Equal(0, stats.Failed + stats.Dropped + stats.TimedOut);
        Assert.Empty(stats.Errors);
        Assert.Equal(200.0, stats.Throughput, precision: 6);
        Assert.Equal([200L, 200L], stats.PerSecond.Select(s => s.Started));
        Assert.Equal([200L, 200L], stats.PerSecond.Select(s => s.Ok));

        var spread = Stopwatch.GetElapsedTime(invokedAt[0], invokedAt[399]);
        // Paced over two seconds, not fired in a burst; the upper bounds leave room for a CI machine busy with other test assemblies.
        Assert.InRange(spread.TotalSeconds, 1.9, 3.0);
        Assert.InRange(stats.Latency.P50Ms, 0, 100);
    }

    [Fact]
    public async Task A_step_that_fails_every_third_call_gives_the_exact_failure_count_and_error_breakdown()
    {
        var scenario = new Scenario("flaky", (sequence, _) => (sequence % 6) switch
        {
            0 => Task.FromResult(StepResult.Fail("HTTP 503")),
            3 => throw new InvalidOperationException("boom"),
            _ => Task.FromResult(StepResult.Ok("HTTP 200")),
        })
        { Rate = 100, Duration = TimeSpan.FromSeconds(1.5) };

        var stats = await OpenModelRunner.RunAsync(scenario);

        Assert.Equal(150, stats.Requests);
        Assert.Equal(100, stats.Ok);
        Assert.Equal(50, stats.Failed);
        Assert.Equal(
            [new("HTTP 503", 25L), new("InvalidOperationException", 25L)],
            stats.Errors);
        Assert.Equal(100.0 / 150, stats.SuccessRatio, precision: 12);
    }

    [Fact]
    public async Task A_step_slower_than_max_in_flight_allows_leads_to_dropped_requests_rather_than_a_lower_injection_rate()
    {
        var concurrent = 0;
        var peak = 0;
        var scenario = new Scenario("saturated", async (_, ct) =>
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref peak, now);
            try
            {
                await Task.Delay(400, ct);
                return StepResult.Ok();
            }
            finally
            {
                Interlocked.Decrement(ref concurrent);
            }
        })
        { Rate = 100, Duration = TimeSpan.FromSeconds(1), MaxInFlight = 5 };

        var stats = await OpenModelRunner.RunAsync(scenario);

        Assert.Equal(100, stats.Requests);
        Assert.InRange(stats.Dropped, 70, 95);
        Assert.Equal(stats.Requests, stats.Ok + stats.Dropped);
        Assert.InRange(peak, 1, 5);
        Assert.Equal(100, stats.PerSecond.Sum(s => s.Started + s.Dropped));
    }

    [Fact]
    public async Task Warm_up_requests_are_executed_but_not_recorded()
    {
        var executed = 0;
        var scenario = new Scenario("warming", (sequence, _) =>
        {
            Interlocked.Increment(ref executed);

            // Failures while warming up (cold caches, JIT) must not show in the results.
            return Task.FromResult(sequence < 50 ? StepResult.Fail("cold") : StepResult.Ok());
        })
        { Rate = 100, WarmUp = TimeSpan.FromSeconds(0.5), Duration = TimeSpan.FromSeconds(0.5) };

        var stats = await OpenModelRunner.RunAsync(scenario);

        Assert.Equal(100, Volatile.Read(ref executed));
        Assert.Equal(50, stats.Requests);
        Assert.Equal(50, stats.Ok);
        Assert.Equal(0, stats.Failed);
        Assert.Equal(50, stats.PerSecond.Single().Started);
    }

    [Fact]
    public async Task A_first_call_that_takes_300ms_shows_in_max_latency_without_delaying_the_others()
    {
        var scenario = new Scenario("one slow call", async (sequence, ct) =>
        {
            if (sequence == 0)
            {
                await Task.Delay(300, ct);
            }

            return StepResult.Ok();
        })
        { Rate = 50, Duration = TimeSpan.FromSeconds(1) };

        var stats = await OpenModelRunner.RunAsync(scenario);

        Assert.Equal(50, stats.Ok);
        // 290, not 300: the histogram keeps three significant digits and a timer may fire a hair early (seen: 299.3 ms).
        Assert.True(stats.Latency.MaxMs >= 290, $"max {stats.Latency.MaxMs} ms");
        Assert.True(stats.Latency.P50Ms < 50, $"p50 {stats.Latency.P50Ms} ms");
    }

    [Fact]
    public async Task Latency_counts_from_the_scheduled_start_so_an_injector_stall_shows_in_the_requests_sent_late()
    {
        // Jumping the clock is what a 300 ms stall of the injector (a GC pause, a starved CPU) looks like to it:
        // requests 11 to ~40 become overdue at once and are sent late, and each must carry its lateness.
        var clock = new JumpingClock();
        var scenario = new Scenario("stalled injector", (sequence, _) =>
        {
            if (sequence == 10)
            {
                clock.Jump(TimeSpan.FromMilliseconds(300));
            }

            return Task.FromResult(StepResult.Ok());
        })
        { Rate = 100, Duration = TimeSpan.FromSeconds(1) };

        var stats = await OpenModelRunner.RunAsync(scenario, clock);

        Assert.Equal(100, stats.Requests);
        Assert.Equal(100, stats.Ok);
        Assert.True(stats.Latency.MaxMs >= 280, $"max {stats.Latency.MaxMs} ms");

        // About 30 of 100 requests were sent 0..290 ms late, so the top 5 % are well above 150 ms; measured
        // from the actual send instead, p95 would be near zero.
        Assert.True(stats.Latency.P95Ms >= 150, $"p95 {stats.Latency.P95Ms} ms");
    }

    [Fact]
    public async Task Requests_still_outstanding_after_the_drain_timeout_count_as_timeouts_and_are_cancelled()
    {
        var abandoned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scenario = new Scenario("hanging", async (sequence, ct) =>
        {
            if (sequence == 9)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    abandoned.SetResult();
                    throw;
                }
            }

            return StepResult.Ok();
        })
        // A drain timeout long enough for the nine instant steps to finish even on a loaded CI machine.
        { Rate = 20, Duration = TimeSpan.FromSeconds(0.5), DrainTimeout = TimeSpan.FromSeconds(2) };

        var elapsed = Stopwatch.StartNew();
        var stats = await OpenModelRunner.RunAsync(scenario);
        elapsed.Stop();

        Assert.Equal(10, stats.Requests);
        Assert.Equal(9, stats.Ok);
        Assert.Equal(1, stats.TimedOut);
        Assert.Equal(0, stats.Failed); // the cancellation that ends it must not count it twice
        Assert.InRange(elapsed.Elapsed.TotalSeconds, 2.0, 5.0); // the hanging step holds the run for the whole drain timeout
        await abandoned.Task.WaitAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Cancelling_the_run_stops_injection_early_and_returns_what_was_recorded()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var scenario = new Scenario("cut short", Instant) { Rate = 50, Duration = TimeSpan.FromSeconds(30) };

        var elapsed = Stopwatch.StartNew();
        var stats = await OpenModelRunner.RunAsync(scenario, cancellation.Token);

        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(3), $"took {elapsed.Elapsed}");
        Assert.True(stats.Cancelled);
        // Injection ran until the (possibly late) cancellation and no further: at most the schedule up to now.
        Assert.InRange(stats.Requests, 5, (long)(elapsed.Elapsed.TotalSeconds * 50) + 2);
        Assert.Equal(stats.Requests, stats.Ok);
        Assert.True(stats.MeasuredDuration < TimeSpan.FromSeconds(2), $"measured {stats.MeasuredDuration}");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private sealed class JumpingClock : TimeProvider
    {
        private long _offset;

        public void Jump(TimeSpan by) => Interlocked.Add(ref _offset, (long)(by.TotalSeconds * TimestampFrequency));

        public override long GetTimestamp() => base.GetTimestamp() + Interlocked.Read(ref _offset);
    }
}
