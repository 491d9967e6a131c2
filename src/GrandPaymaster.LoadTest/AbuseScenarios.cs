using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.LoadTest.Engine;
using HdrHistogram;

namespace GrandPaymaster.LoadTest;

/// <summary>
/// The abuse scenarios (issue 9) against the bench node: a flood of unknown keys, one dApp sending maximum-size quotes, one
/// dApp flooding its quote bucket (S7), and twice the sponsored flow's capacity. A well-behaved dApp of its own quotes at a
/// steady rate before and during each, so what the abuse costs others is measured. Each prints its figures and adds its checks.
/// </summary>
public sealed class AbuseScenarios(PaymasterBench bench, BenchDapp wellBehaved, bool quick, TextWriter output)
{
    private const double WellBehavedRate = 50;
    private const int FloodConnections = 32;
    private const int MaxDataBytes = 16 * 1024;
    private const long WorkingSetBound = 200L * 1024 * 1024;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);

    public List<Check> Checks { get; } = [];

    /// <summary>Every open-model run, for the HTML report.</summary>
    public List<ScenarioStats> Results { get; } = [];

    /// <summary>The well-behaved dApp has the node's default quote bucket (100/s), which its 50 quotes/s fit.</summary>
    public static async Task<AbuseScenarios> StartAsync(PaymasterBench bench, bool quick, TextWriter output) =>
        new(bench, await bench.RegisterDappAsync("well-behaved", quotesPerSecond: null), quick, output);

    /// <summary>(a) <c>GET /v1/balances</c> at full speed with well-formed keys nobody issued, a new one each request.</summary>
    public async Task UnknownKeyFloodAsync()
    {
        var mix = new StatusMix();
        var flood = await AgainstWellBehavedAsync("unknown-key flood", Seconds(20, 5), length => ClosedLoop.RunAsync(async () =>
        {
            using var response = await bench.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: UnknownKey());
            mix.Add(await PaymasterBench.OutcomeAsync(response));
            return response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests;
        }, FloodConnections, TimeSpan.Zero, length));
        output.WriteLine(Text($"  flood: {flood.RequestsPerSecond:0} requests/s answered ({FloodConnections} connections, closed loop, one client IP); {mix}"));
    }

    /// <summary>
    /// (b) One valid key sending quotes with the chain's largest call data (16 KiB) from random senders at full speed. Its
    /// operator rate is the highest (10,000/s), so what stops it is the bound on its open quotes, not its bucket.
    /// </summary>
    public async Task MaxSizeQuotesAsync()
    {
        var flooder = await bench.RegisterDappAsync("max-size-quotes", PaymasterBench.MaxQuotesPerSecond);
        var data = "0x" + new string('a', 2 * MaxDataBytes);
        var mix = new StatusMix();
        var flood = await AgainstWellBehavedAsync("max-size quote flood", Seconds(60, 10), length => ClosedLoop.RunAsync(async () =>
        {
            using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.DirectQuoteBody(PaymasterBench.RandomSender(), data, gasLimit: 1_000_000),
                apiKey: flooder.ApiKey);
            mix.Add(await PaymasterBench.OutcomeAsync(response));
            return response.StatusCode is HttpStatusCode.Created or HttpStatusCode.TooManyRequests;
        }, FloodConnections, TimeSpan.Zero, length));
        output.WriteLine(Text(
            $"  flood: {flood.RequestsPerSecond:0} quotes/s answered, each {MaxDataBytes / 1024} KiB of call data ({FloodConnections} connections, closed loop, one dApp at {PaymasterBench.MaxQuotesPerSecond}/s); {mix}"));
    }

    /// <summary>(c) S7: a dApp with the node's default bucket (100 quotes/s, burst 200) sending ten times that, steadily.</summary>
    public async Task BucketFloodAsync()
    {
        var flooder = await bench.RegisterDappAsync("bucket-flooder", quotesPerSecond: null);
        var mix = new StatusMix();
        var retryAfter = new System.Collections.Concurrent.ConcurrentQueue<double?>();
        const double rate = 1_000;
        await AgainstWellBehavedAsync("bucket flood (S7)", Seconds(20, 5), length => OpenModelRunner.RunAsync(new Scenario("a dApp flooding its quote bucket", async (_, ct) =>
        {
            using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.DirectQuoteBody(PaymasterBench.RandomSender()), apiKey: flooder.ApiKey, ct: ct);
            var outcome = await PaymasterBench.OutcomeAsync(response, ct);
            mix.Add(outcome);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) retryAfter.Enqueue(response.Headers.RetryAfter?.Delta?.TotalSeconds);
            return response.StatusCode == HttpStatusCode.Created ? StepResult.Ok() : StepResult.Fail(outcome);
        })
        {
            Rate = rate,
            Duration = length,
            MaxInFlight = 1_000,
        }));
        var waits = retryAfter.OfType<double>().ToList();
        var missing = retryAfter.Count - waits.Count;
        output.WriteLine(Text($"  flooder: {rate:0} quotes/s at the default bucket (100/s, burst 200): {mix}"));
        output.WriteLine(waits.Count == 0 ? "  Retry-After: no 429 carried one" : Text($"  Retry-After on its 429s: {waits.Min():0}–{waits.Max():0} s ({missing} of {retryAfter.Count} without one)"));
        Checks.Add(new Check("bucket flood: the flooder is THROTTLED, every 429 with Retry-After", mix.Count("429 throttled") > 0 && missing == 0,
            Text($"{mix.Count("429 throttled")} × 429 throttled, {missing} without Retry-After")));
    }

    /// <summary>
    /// (d) The sponsored flow (forwarded quote + execute) at its capacity, measured as a closed loop, then offered at twice that
    /// as an open model: the node should refuse what it cannot take (503 overloaded, 429) at once and keep the rest fast.
    /// </summary>
    public async Task OverloadAsync(double unloadedExecuteP99Ms)
    {
        var dapp = await bench.RegisterDappAsync("overload", PaymasterBench.MaxQuotesPerSecond);
        // A client of its own without a connection cap, so the node (not the client's pool) sees the offered load.
        using var client = bench.NewClient(maxConnections: 100_000);
        var serial = 0L;
        var measuring = new FlowOutcomes();
        var capacityRun = await ClosedLoop.RunAsync(async () => (await FlowAsync(measuring, CancellationToken.None)).IsSuccess,
            FloodConnections, WarmUp, Seconds(8, 4));
        var capacity = (capacityRun.Requests - capacityRun.Errors) / capacityRun.Elapsed.TotalSeconds;
        var offered = Math.Max(2 * capacity, 1);
        var overload = new FlowOutcomes();
        var duration = Seconds(20, 8);
        var flowing = OpenModelRunner.RunAsync(new Scenario(Text($"sponsored flow at twice its capacity ({offered:0}/s)"), (_, ct) => FlowAsync(overload, ct))
        {
            Rate = offered,
            WarmUp = WarmUp,
            Duration = duration,
            MaxInFlight = 50_000,
        });
        var other = await OpenModelRunner.RunAsync(WellBehavedQuotes("well-behaved dApp during the overload", duration));
        var flows = await flowing;
        Results.AddRange([flows, other]);
        var settled = await SettledAsync(dapp, TimeSpan.FromSeconds(quick ? 30 : 60));

        var refused = flows.Errors.Where(e => IsRefusal(e.Key)).Sum(e => e.Value);
        output.WriteLine(Text($"overload: the sponsored flow's capacity {capacity:0} flows/s (quote + execute, {FloodConnections} connections, closed loop, a new user each flow: {measuring.Executes}); then {offered:0} flows/s offered for {duration.TotalSeconds:0} s"));
        output.WriteLine(Text($"  flows: {flows.Requests} offered, {flows.Ok} executed (202), {refused} refused ({Share(refused, flows.Requests)}), {flows.Failed - refused} failed otherwise, {flows.Dropped} dropped, {flows.TimedOut} timed out"));
        output.WriteLine($"  quotes: {overload.Quotes}; executes: {overload.Executes}");
        output.WriteLine(Text($"  refusals (503/429), from sending each refused request: {Percentiles(overload.Refusals)}"));
        output.WriteLine(Text($"  accepted executes: {Percentiles(overload.Accepted)} (unloaded flow's execute p99 {unloadedExecuteP99Ms:0.00} ms)"));
        output.WriteLine(Text($"  well-behaved dApp's quotes at {WellBehavedRate:0}/s during it: p95 {other.Latency.P95Ms:0.00} ms, p99 {other.Latency.P99Ms:0.00} ms, {Figures.Percent(other.SuccessRatio)} ok{Failures(other)}"));
        output.WriteLine($"  afterwards: {settled}");
        output.WriteLine();

        var refusalP99 = Ms(overload.Refusals, 99);
        var acceptedP99 = Ms(overload.Accepted, 99);
        Checks.Add(new Check("overload at twice capacity: the node sheds load (503 overloaded / 429)", refused > 0, Text($"{refused} of {flows.Requests} flows refused ({Share(refused, flows.Requests)})")));
        Checks.Add(new Check("overload: refusals p99 < 50 ms", refused > 0 && refusalP99 < 50, refused > 0 ? Text($"{refusalP99:0.00} ms") : "nothing refused"));
        Checks.Add(new Check("overload: accepted executes p99 within 2× the unloaded flow's", acceptedP99 <= 2 * unloadedExecuteP99Ms,
            Text($"{acceptedP99:0.00} ms vs {unloadedExecuteP99Ms:0.00} ms ({acceptedP99 / unloadedExecuteP99Ms:0.0}×)")));
        Checks.Add(new Check("overload: another dApp's quote p95 < 800 ms (the quote SLO)", other.Completed > 0 && other.Latency.P95Ms < 800,
            Text($"{other.Latency.P95Ms:0.00} ms, {Figures.Percent(other.SuccessRatio)} ok")));

        async Task<StepResult> FlowAsync(FlowOutcomes outcomes, CancellationToken ct)
        {
            // A user of its own each flow (nonce 0): a refused execute must not leave a gap that holds up the user's next request.
            var n = Interlocked.Increment(ref serial);
            var user = EthKey.Generate(new Random(500_000 + (int)n));
            var started = Stopwatch.GetTimestamp();
            using var quote = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.QuoteBody(user), apiKey: dapp.ApiKey, ct: ct, client: client);
            var quoted = await PaymasterBench.OutcomeAsync(quote, ct);
            outcomes.Quotes.Add(quoted);
            if (quote.StatusCode != HttpStatusCode.Created) return outcomes.Refused(quoted, started, "quote ");
            var body = JsonDocument.Parse(await quote.Content.ReadAsStringAsync(ct)).RootElement;
            started = Stopwatch.GetTimestamp();
            using var execute = await bench.SendAsync(HttpMethod.Post, $"/v1/quotes/{body.GetProperty("quoteId").GetString()}/execute", PaymasterBench.ExecuteBody(user, body),
                apiKey: dapp.ApiKey, idempotencyKey: $"overload-{n}", ct: ct, client: client);
            var executed = await PaymasterBench.OutcomeAsync(execute, ct);
            outcomes.Executes.Add(executed);
            if (execute.StatusCode != HttpStatusCode.Accepted) return outcomes.Refused(executed, started, "execute ");
            outcomes.Record(outcomes.Accepted, started);
            return StepResult.Ok();
        }
    }

    /// <summary>
    /// The well-behaved dApp's quotes for <paramref name="duration"/>, then the same again while <paramref name="flood"/> runs
    /// (given how long to run), with this process's memory over the second run; prints both and adds the checks.
    /// </summary>
    private async Task<T> AgainstWellBehavedAsync<T>(string what, TimeSpan duration, Func<TimeSpan, Task<T>> flood)
    {
        var baseline = await OpenModelRunner.RunAsync(WellBehavedQuotes($"well-behaved dApp before the {what}", duration));
        var ((during, flooded), memory) = await MemoryUse.WatchAsync(async () =>
        {
            var flooding = flood(WarmUp + duration);
            var measured = await OpenModelRunner.RunAsync(WellBehavedQuotes($"well-behaved dApp during the {what}", duration));
            return (measured, await flooding);
        });
        Results.AddRange([baseline, during]);
        output.WriteLine(Text($"{what}, {duration.TotalSeconds:0} s:"));
        output.WriteLine(Text(
            $"  well-behaved dApp ({WellBehavedRate:0} quotes/s, direct calls, random senders): p95 {baseline.Latency.P95Ms:0.00} ms before, {during.Latency.P95Ms:0.00} ms during (p99 {baseline.Latency.P99Ms:0.00} / {during.Latency.P99Ms:0.00} ms), {Figures.Percent(during.SuccessRatio)} ok during{Failures(during)}"));
        output.WriteLine($"  memory of this process (node and load generator): {memory}");
        var p95Held = LatencyRegression.Within(baseline.Latency.P95Ms, during.Latency.P95Ms) && during.SuccessRatio >= 0.999;
        Checks.Add(new Check($"{what}: well-behaved quote p95 {LatencyRegression.Rule}, all ok", p95Held,
            Text($"{during.Latency.P95Ms:0.00} ms vs {baseline.Latency.P95Ms:0.00} ms, {Figures.Percent(during.SuccessRatio)} ok")));
        Checks.Add(new Check($"{what}: working-set growth < {MemoryUse.Mb(WorkingSetBound)}", memory.WorkingSetGrowth < WorkingSetBound,
            $"+{MemoryUse.Mb(memory.WorkingSetGrowth)} (peak {MemoryUse.Mb(memory.WorkingSetPeak)})"));
        return flooded;
    }

    private Scenario WellBehavedQuotes(string name, TimeSpan duration) => new(name, async (_, ct) =>
    {
        using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.DirectQuoteBody(PaymasterBench.RandomSender()), apiKey: wellBehaved.ApiKey, ct: ct);
        return response.StatusCode == HttpStatusCode.Created ? StepResult.Ok() : StepResult.Fail(await PaymasterBench.OutcomeAsync(response, ct));
    })
    {
        Rate = WellBehavedRate,
        WarmUp = WarmUp,
        Duration = duration,
        MaxInFlight = 500,
    };

    /// <summary>Waits until <paramref name="dapp"/> holds nothing (every executed transaction settled), at most <paramref name="patience"/>.</summary>
    private async Task<string> SettledAsync(BenchDapp dapp, TimeSpan patience)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var held = (await bench.BalancesAsync(dapp)).GetProperty("held").GetString();
            if (held == "0") return Text($"every executed transaction settled, nothing held ({stopwatch.Elapsed.TotalSeconds:0} s after the run)");
            if (stopwatch.Elapsed > patience) return Text($"still {held} USDT units held {patience.TotalSeconds:0} s after the run");
            await Task.Delay(500);
        }
    }

    private TimeSpan Seconds(int full, int quickRun) => TimeSpan.FromSeconds(quick ? quickRun : full);

    /// <summary>A well-formed key (<c>gpm_&lt;32 hex&gt;_&lt;48 hex&gt;</c>) that no dApp was ever issued.</summary>
    private static string UnknownKey() => $"gpm_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))}";

    private static bool IsRefusal(string outcome) => outcome.Contains("503 overloaded", StringComparison.Ordinal) || outcome.Contains("429", StringComparison.Ordinal);

    private static string Failures(ScenarioStats s) => s.Errors.Count == 0 ? "" : " (" + string.Join(", ", s.Errors.Select(e => $"{e.Key}: {e.Value}")) + ")";

    private static string Share(long part, long whole) => Figures.Percent(whole == 0 ? 0 : (double)part / whole);

    private static double Ms(LongHistogram histogram, double percentile)
    {
        lock (histogram) return histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
    }

    private static string Percentiles(LongHistogram h) =>
        h.TotalCount == 0 ? "none" : Text($"{h.TotalCount} requests, p50 {Ms(h, 50):0.00} ms, p95 {Ms(h, 95):0.00} ms, p99 {Ms(h, 99):0.00} ms, max {Ms(h, 100):0.00} ms");

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>What the flows of one run were answered, and how long refusals and accepted executes took (µs).</summary>
    private sealed class FlowOutcomes
    {
        public StatusMix Quotes { get; } = new();
        public StatusMix Executes { get; } = new();
        public LongHistogram Refusals { get; } = new(TimeStamp.Seconds(60), 3);
        public LongHistogram Accepted { get; } = new(TimeStamp.Seconds(60), 3);

        public StepResult Refused(string outcome, long started, string step)
        {
            if (IsRefusal(outcome)) Record(Refusals, started);
            return StepResult.Fail(step + outcome);
        }

        public void Record(LongHistogram histogram, long started)
        {
            var micros = (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency;
            lock (histogram) histogram.RecordValue(micros);
        }
    }
}
