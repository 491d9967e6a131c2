using System.Diagnostics;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// Journal write latency (a Persist call to its handler) in fixed buckets, counted lock-free on the entities' hot path and
/// drained by whoever exports it (the node's Prometheus registry, at scrape time): no message per write. Each bucket keeps its
/// count and the exact sum of its observations, so the exporter can replay them without losing the histogram's sum.
/// </summary>
public sealed class JournalWriteLatency
{
    /// <summary>Upper bounds in seconds: 0.5 ms doubling to about 4 s (the last bucket also takes everything above).</summary>
    public static readonly double[] Buckets = Enumerable.Range(0, 14).Select(i => 0.0005 * Math.Pow(2, i)).ToArray();

    private readonly long[] _counts = new long[Buckets.Length + 1];
    private readonly long[] _ticks = new long[Buckets.Length + 1];

    public void Observe(long startTimestamp)
    {
        var ticks = Stopwatch.GetTimestamp() - startTimestamp;
        var seconds = (double)ticks / Stopwatch.Frequency;
        var i = 0;
        while (i < Buckets.Length && seconds > Buckets[i]) i++;
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _ticks[i], ticks);
    }

    /// <summary>Takes the observations since the last drain: per bucket, how many and their mean in seconds.</summary>
    public IEnumerable<(long Count, double MeanSeconds)> Drain()
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            var count = Interlocked.Exchange(ref _counts[i], 0);
            var ticks = Interlocked.Exchange(ref _ticks[i], 0);
            if (count > 0) yield return (count, (double)ticks / Stopwatch.Frequency / count);
        }
    }
}
