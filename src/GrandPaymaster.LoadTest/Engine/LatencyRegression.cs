namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// Whether a latency measured under some disturbance stayed close to its undisturbed baseline: within 20 %, or within +1 ms
/// when the baseline is below 5 ms (at a few milliseconds, 20 % is less than the noise between two identical runs).
/// </summary>
public static class LatencyRegression
{
    public const string Rule = "within 20 % of the baseline, or +1 ms when the baseline is below 5 ms";

    public static bool Within(double baselineMs, double measuredMs) =>
        measuredMs <= (baselineMs < 5 ? baselineMs + 1 : baselineMs * 1.2);
}
