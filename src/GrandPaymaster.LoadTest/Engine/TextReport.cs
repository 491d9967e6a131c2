namespace GrandPaymaster.LoadTest.Engine;

/// <summary>Writes scenario results as a plain-text table, one block per scenario.</summary>
public static class TextReport
{
    /// <summary>Writes one block per scenario to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, IEnumerable<ScenarioStats> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(results);
        foreach (var stats in results)
        {
            WriteScenario(writer, stats);
            writer.WriteLine();
        }
    }

    private static void WriteScenario(TextWriter writer, ScenarioStats s)
    {
        writer.WriteLine($"== {s.ScenarioName} ==");
        writer.WriteLine(
            $"rate {Figures.Rate(s.Rate)}/s, warm-up {Figures.Seconds(s.WarmUp)}, duration {Figures.Seconds(s.Duration)}, " +
            $"max in flight {Figures.Count(s.MaxInFlight)}" + (s.Cancelled ? ", CANCELLED" : ""));
        writer.WriteLine(
            $"throughput {Figures.Rate(s.Throughput)} ok/s over {Figures.Seconds(s.MeasuredDuration)}, " +
            $"success {Figures.Percent(s.SuccessRatio)}");

        WriteTable(writer,
            ["requests", "ok", "failed", "dropped", "timed out"],
            [Figures.Count(s.Requests), Figures.Count(s.Ok), Figures.Count(s.Failed), Figures.Count(s.Dropped), Figures.Count(s.TimedOut)]);

        var l = s.Latency;
        string[] latencies = s.Completed == 0
            ? ["-", "-", "-", "-", "-", "-"]
            : [Figures.Ms(l.P50Ms), Figures.Ms(l.P75Ms), Figures.Ms(l.P95Ms), Figures.Ms(l.P99Ms), Figures.Ms(l.P999Ms), Figures.Ms(l.MaxMs)];
        WriteTable(writer, ["latency ms", "p50", "p75", "p95", "p99", "p99.9", "max"], ["", .. latencies]);

        foreach (var (code, count) in s.Errors)
        {
            writer.WriteLine($"error {code}: {Figures.Count(count)}");
        }
    }

    private static void WriteTable(TextWriter writer, string[] header, string[] values)
    {
        var widths = header.Zip(values, (h, v) => Math.Max(h.Length, v.Length)).ToArray();
        writer.WriteLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
        writer.WriteLine(string.Join("  ", values.Select((v, i) => v.PadLeft(widths[i]))));
    }
}
