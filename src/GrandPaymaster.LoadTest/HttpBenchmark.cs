using System.Diagnostics;
using GrandPaymaster.Node.Hosting;
using HdrHistogram;

namespace GrandPaymaster.LoadTest;

/// <summary>
/// Bare HTTP throughput of the node's own pipeline (Kestrel + routing + the liveness endpoint, no
/// actors), closed loop with <c>concurrency</c> connections on loopback. This is the yardstick the
/// API endpoints are compared against in the same run.
/// </summary>
public static class HttpBenchmark
{
    public sealed record Measurement(string Path, long Requests, long Errors, TimeSpan Elapsed, LongHistogram LatencyMicros)
    {
        public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
    }

    public static async Task<Measurement> RunAsync(int concurrency, TimeSpan warmUp, TimeSpan duration)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-bench-http-" + Guid.NewGuid().ToString("N"));
        var app = NodeApp.Build([
            "--urls", "http://127.0.0.1:0",
            "--Gpm:Node:Port=0",
            $"--Gpm:Persistence:DataDirectory={dataDirectory}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        try
        {
            var baseUrl = new Uri(app.Urls.First());
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency };
            using var http = new HttpClient(handler) { BaseAddress = baseUrl };
            const string path = "/health/live";

            await LoopAsync(http, path, concurrency, warmUp, record: null);
            var histogram = new LongHistogram(TimeStamp.Seconds(10), 3);
            var stopwatch = Stopwatch.StartNew();
            var (requests, errors) = await LoopAsync(http, path, concurrency, duration, histogram);
            stopwatch.Stop();
            return new Measurement(path, requests, errors, stopwatch.Elapsed, histogram);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<(long Requests, long Errors)> LoopAsync(
        HttpClient http, string path, int concurrency, TimeSpan duration, LongHistogram? record)
    {
        long requests = 0, errors = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await http.GetAsync(path);
                    if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }

                var micros = (Stopwatch.GetTimestamp() - start) * 1_000_000 / Stopwatch.Frequency;
                Interlocked.Increment(ref requests);
                if (record is not null)
                    lock (gate) record.RecordValue(micros);
            }
        }));
        return (requests, errors);
    }
}
