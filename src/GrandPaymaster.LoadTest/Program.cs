using System.Globalization;
using GrandPaymaster.LoadTest;

// Baselines for later targets: how fast this machine writes our journal and serves bare HTTP.
// Usage: GrandPaymaster.LoadTest [--seconds N] [--concurrency N] [--entities N] [--events N]
var options = BenchOptions.Parse(args);
Console.WriteLine($"Grand Paymaster benchmarks on {Environment.ProcessorCount} cores, {DateTimeOffset.UtcNow:u}");
Console.WriteLine();

var journal = await JournalBenchmark.RunAsync(options.Entities, options.EventsPerEntity);
Console.WriteLine("journal write throughput (SQLite WAL, one event per write)");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {journal.Events} events from {journal.Entities} persistent actors in {journal.Elapsed.TotalSeconds:0.00} s = {journal.EventsPerSecond:0} events/s"));
Console.WriteLine();

var http = await HttpBenchmark.RunAsync(options.Concurrency, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(options.Seconds));
Console.WriteLine($"bare HTTP throughput (GET {http.Path}, {options.Concurrency} connections, closed loop)");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  {http.Requests} requests ({http.Errors} errors) in {http.Elapsed.TotalSeconds:0.00} s = {http.RequestsPerSecond:0} requests/s"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"  latency p50 {Ms(http, 50)} ms, p99 {Ms(http, 99)} ms, max {http.LatencyMicros.GetValueAtPercentile(100) / 1000.0:0.00} ms"));
return 0;

static string Ms(HttpBenchmark.Measurement r, double percentile) =>
    (r.LatencyMicros.GetValueAtPercentile(percentile) / 1000.0).ToString("0.00", CultureInfo.InvariantCulture);

internal sealed record BenchOptions(int Seconds, int Concurrency, int Entities, int EventsPerEntity)
{
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(Seconds: 10, Concurrency: 32, Entities: 20, EventsPerEntity: 250);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--seconds" => o with { Seconds = value },
                "--concurrency" => o with { Concurrency = value },
                "--entities" => o with { Entities = value },
                "--events" => o with { EventsPerEntity = value },
                _ => throw new ArgumentException($"Unknown option {args[i]}"),
            };
        }

        return o;
    }
}
