namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// The measured outcome of one scenario run. Every recorded request ends in exactly one of
/// <see cref="Ok"/>, <see cref="Failed"/>, <see cref="Dropped"/> or <see cref="TimedOut"/>, so they add up to
/// <see cref="Requests"/>. Warm-up requests are not part of any figure.
/// </summary>
public sealed record ScenarioStats
{
    /// <summary>The scenario's name.</summary>
    public required string ScenarioName { get; init; }

    /// <summary>The configured injection rate, requests per second.</summary>
    public required double Rate { get; init; }

    /// <summary>The configured warm-up.</summary>
    public required TimeSpan WarmUp { get; init; }

    /// <summary>The configured measured duration.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>The configured cap on outstanding requests.</summary>
    public required int MaxInFlight { get; init; }

    /// <summary>
    /// How long requests were injected while recording: <see cref="Duration"/>, or less if the run was cancelled.
    /// </summary>
    public required TimeSpan MeasuredDuration { get; init; }

    /// <summary>True when the run was cancelled before its duration was over.</summary>
    public bool Cancelled { get; init; }

    /// <summary>Requests scheduled during the measured period, whether they were sent or not.</summary>
    public required long Requests { get; init; }

    /// <summary>Requests whose step reported success.</summary>
    public required long Ok { get; init; }

    /// <summary>Requests whose step reported failure or threw.</summary>
    public required long Failed { get; init; }

    /// <summary>Requests not sent because <see cref="MaxInFlight"/> requests were already outstanding.</summary>
    public required long Dropped { get; init; }

    /// <summary>Requests still outstanding when the drain timeout after the run expired.</summary>
    public required long TimedOut { get; init; }

    /// <summary>Requests that completed, successfully or not: the population of <see cref="Latency"/>.</summary>
    public long Completed => Ok + Failed;

    /// <summary>OK requests as a fraction (0..1) of all scheduled requests; for display.</summary>
    public double SuccessRatio => Requests == 0 ? 0 : (double)Ok / Requests;

    /// <summary>OK requests per second of <see cref="MeasuredDuration"/>.</summary>
    public double Throughput => MeasuredDuration > TimeSpan.Zero ? Ok / MeasuredDuration.TotalSeconds : 0;

    /// <summary>
    /// Latency percentiles of completed requests, measured from each request's scheduled start, so time a
    /// request spent waiting for a late injector is included. Dropped and timed-out requests have no latency.
    /// </summary>
    public required LatencyPercentiles Latency { get; init; }

    /// <summary>Failure counts per code (the step's code, or the exception type name), largest first.</summary>
    public required IReadOnlyList<KeyValuePair<string, long>> Errors { get; init; }

    /// <summary>One entry per second of the measured period, by the second in which requests were scheduled.</summary>
    public required IReadOnlyList<SecondStats> PerSecond { get; init; }
}

/// <summary>Latency percentiles in milliseconds.</summary>
/// <param name="P50Ms">Median.</param>
/// <param name="P75Ms">75th percentile.</param>
/// <param name="P95Ms">95th percentile.</param>
/// <param name="P99Ms">99th percentile.</param>
/// <param name="P999Ms">99.9th percentile.</param>
/// <param name="MaxMs">Largest recorded latency.</param>
public readonly record struct LatencyPercentiles(
    double P50Ms, double P75Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs);

/// <summary>
/// Figures for the requests scheduled in one second of the measured period.
/// Percentiles are null when no request scheduled in that second completed.
/// </summary>
/// <param name="Second">0-based second since the end of warm-up.</param>
/// <param name="Started">Requests sent (scheduled and not dropped).</param>
/// <param name="Ok">Of those, the ones that succeeded.</param>
/// <param name="Failed">Of those, the ones that failed.</param>
/// <param name="Dropped">Requests not sent because the in-flight cap was reached.</param>
/// <param name="P50Ms">Median latency.</param>
/// <param name="P95Ms">95th percentile latency.</param>
/// <param name="P99Ms">99th percentile latency.</param>
public sealed record SecondStats(
    int Second, long Started, long Ok, long Failed, long Dropped, double? P50Ms, double? P95Ms, double? P99Ms);
