using System.Diagnostics;

namespace GrandPaymaster.LoadTest;

/// <summary>
/// Maximum throughput of one request shape: <c>concurrency</c> workers back to back for a fixed time.
/// Used only to compare two endpoints in the same run (a ratio); latency targets use the open model.
/// </summary>
public static class ClosedLoop
{
    public sealed record Measurement(long Requests, long Errors, TimeSpan Elapsed)
    {
        public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
    }

    public static async Task<Measurement> RunAsync(Func<Task<bool>> request, int concurrency, TimeSpan warmUp, TimeSpan duration)
    {
        await LoopAsync(request, concurrency, warmUp);
        var stopwatch = Stopwatch.StartNew();
        var (requests, errors) = await LoopAsync(request, concurrency, duration);
        return new Measurement(requests, errors, stopwatch.Elapsed);
    }

    private static async Task<(long, long)> LoopAsync(Func<Task<bool>> request, int concurrency, TimeSpan duration)
    {
        long requests = 0, errors = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                bool ok;
                try
                {
                    ok = await request();
                }
                catch (HttpRequestException)
                {
                    ok = false;
                }

                Interlocked.Increment(ref requests);
                if (!ok) Interlocked.Increment(ref errors);
            }
        }));
        return (requests, errors);
    }
}
