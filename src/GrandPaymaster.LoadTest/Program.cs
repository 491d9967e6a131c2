using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.LoadTest;
using GrandPaymaster.LoadTest.Engine;
using HdrHistogram;

// scripts/build.sh bench: journal and bare-HTTP baselines, then the quote and whole-flow scenarios and the abuse scenarios
// (AbuseScenarios) against a real node on two anvil chains, all in one run so the ratios compare like with like.
// Node log level: GPM_BENCH_LOG (default Warning).
// Usage: GrandPaymaster.LoadTest [--quick] [--quote-rate N] [--flow-rate N] [--flow-seconds N] [--report DIR]
var options = BenchOptions.Parse(args);
var invariant = CultureInfo.InvariantCulture;
Console.WriteLine($"Grand Paymaster benchmarks on {Environment.ProcessorCount} cores, {DateTimeOffset.UtcNow:u}{(options.Quick ? " (quick)" : "")}");
Console.WriteLine();

var journal = await JournalBenchmark.RunAsync(entities: 20, eventsPerEntity: options.Quick ? 100 : 250);
Console.WriteLine(string.Create(invariant,
    $"journal write throughput (SQLite WAL, one event per write): {journal.Events} events from {journal.Entities} persistent actors in {journal.Elapsed.TotalSeconds:0.00} s = {journal.EventsPerSecond:0} events/s"));

await using var bench = await PaymasterBench.StartAsync(maxConnections: 256);
Console.WriteLine("bench node policy: hocon/policy.hocon with these limits raised for the bench's own traffic (--Gpm:Policy:Hocon), every other at its default:");
foreach (var (setting, why) in PaymasterBench.RaisedLimits) Console.WriteLine($"  {setting}  ({why})");
Console.WriteLine($"  and the bench dApps' quote rate set to {PaymasterBench.MaxQuotesPerSecond}/s by the operator route (PUT /admin/v1/dapps/{{id}}/policy; default 100/s)");
var closedLoop = TimeSpan.FromSeconds(options.Quick ? 4 : 10);
var bare = await ClosedLoop.RunAsync(async () =>
{
    using var response = await bench.Http.GetAsync("/health/live");
    return response.IsSuccessStatusCode;
}, concurrency: 32, TimeSpan.FromSeconds(2), closedLoop);
// The pricing path: direct-call quotes (no chain read). Forwarded quotes also read the user's forwarder nonce from the
// chain (one eth_call each), so their throughput is bounded by the RPC node; it is measured below, with users who
// never execute (a quote reserves the user's nonce while it lives, and the flow's users must not wait for those).
// One dApp's quote bucket is at most 10,000/s and this loop runs faster: it takes turns across three bench dApps.
var quoteBody = bench.DirectQuoteBody();
BenchDapp[] quoteDapps = [bench.Dapp, await bench.RegisterDappAsync("bench-2", PaymasterBench.MaxQuotesPerSecond),
    await bench.RegisterDappAsync("bench-3", PaymasterBench.MaxQuotesPerSecond)];
var quoteTurn = 0L;
var quotesMax = await ClosedLoop.RunAsync(async () =>
{
    var dapp = quoteDapps[Interlocked.Increment(ref quoteTurn) % quoteDapps.Length];
    using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", quoteBody, apiKey: dapp.ApiKey);
    return response.StatusCode == System.Net.HttpStatusCode.Created;
}, concurrency: 32, TimeSpan.FromSeconds(2), closedLoop);
var browsers = Enumerable.Range(0, 2_000).Select(i => GrandPaymaster.Chain.Crypto.EthKey.Generate(new Random(70_000 + i))).ToArray();
var browserSerial = 0L;
var forwardedMax = await ClosedLoop.RunAsync(async () =>
{
    var user = browsers[(int)(Interlocked.Increment(ref browserSerial) % browsers.Length)];
    using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.QuoteBody(user), apiKey: bench.ApiKey);
    return response.StatusCode == System.Net.HttpStatusCode.Created;
}, concurrency: 32, TimeSpan.FromSeconds(2), closedLoop);
var ratio = quotesMax.RequestsPerSecond / bare.RequestsPerSecond;
Console.WriteLine(string.Create(invariant,
    $"bare HTTP (GET /health/live, 32 connections, closed loop): {bare.RequestsPerSecond:0} requests/s ({bare.Errors} errors)"));
Console.WriteLine(string.Create(invariant,
    $"quote endpoint (POST /v1/quotes, direct call, 32 connections, closed loop, {quoteDapps.Length} dApps in turn): {quotesMax.RequestsPerSecond:0} requests/s ({quotesMax.Errors} errors) = {ratio:P0} of bare HTTP"));
Console.WriteLine(string.Create(invariant,
    $"forwarded quotes (POST /v1/quotes, one eth_call each, 32 connections, closed loop): {forwardedMax.RequestsPerSecond:0} requests/s ({forwardedMax.Errors} errors)"));
Console.WriteLine();

Scenario QuoteScenario(string name) => new(name, async (_, ct) =>
{
    using var response = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", quoteBody, apiKey: bench.ApiKey, ct: ct);
    return response.StatusCode == System.Net.HttpStatusCode.Created ? StepResult.Ok() : StepResult.Fail($"HTTP {(int)response.StatusCode}");
})
{
    Rate = options.QuoteRate,
    WarmUp = TimeSpan.FromSeconds(3),
    Duration = TimeSpan.FromSeconds(options.Quick ? 10 : 30),
    MaxInFlight = 500,
};
var quotes = await OpenModelRunner.RunAsync(QuoteScenario("quotes (open model)"));
// The same again with 200 ms added to every RPC call the node makes: quotes are priced from the local market snapshot,
// so their latency must not move (the oracles and pools pay the round trips, not the quotes).
bench.SetRpcLatency(TimeSpan.FromMilliseconds(200));
await Task.Delay(TimeSpan.FromSeconds(3));
var slowRpcQuotes = await OpenModelRunner.RunAsync(QuoteScenario("quotes (open model) with 200 ms added to every RPC call"));
bench.SetRpcLatency(TimeSpan.Zero);
var slowRpcDelta = slowRpcQuotes.Latency.P99Ms - quotes.Latency.P99Ms;

var executeLatency = new LongHistogram(TimeStamp.Seconds(60), 3);
var executed = 0L;
var lookupsBefore = await bench.ReceiptLookupsAsync();
var flow = await OpenModelRunner.RunAsync(new Scenario($"sponsored tx: quote + execute (open model; chain 31337: {bench.Mining})", async (sequence, ct) =>
{
    // Each user in turn: a forwarded call to SenderRecorder, signed by the user (who holds no ETH).
    var user = bench.Users[(int)(sequence % bench.Users.Count)];
    using var quote = await bench.SendAsync(HttpMethod.Post, "/v1/quotes", bench.QuoteBody(user), apiKey: bench.ApiKey, ct: ct);
    if (quote.StatusCode != System.Net.HttpStatusCode.Created) return StepResult.Fail($"quote HTTP {(int)quote.StatusCode}");
    var quoted = JsonDocument.Parse(await quote.Content.ReadAsStringAsync(ct)).RootElement;
    var quoteId = quoted.GetProperty("quoteId").GetString();
    var body = PaymasterBench.ExecuteBody(user, quoted);
    var started = Stopwatch.GetTimestamp();
    using var execute = await bench.SendAsync(HttpMethod.Post, $"/v1/quotes/{quoteId}/execute", body, apiKey: bench.ApiKey,
        idempotencyKey: $"bench-{sequence}", ct: ct);
    var micros = (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency;
    lock (executeLatency) executeLatency.RecordValue(micros);
    if (execute.StatusCode != System.Net.HttpStatusCode.Accepted) return StepResult.Fail($"execute HTTP {(int)execute.StatusCode}");
    Interlocked.Increment(ref executed);
    return StepResult.Ok();
})
{
    Rate = options.FlowRate,
    WarmUp = TimeSpan.FromSeconds(5),
    Duration = TimeSpan.FromSeconds(options.FlowSeconds),
    MaxInFlight = 1_000,
});

// Every executed transaction must settle: nothing held once the chain has mined them all.
var settleDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
JsonElement ledger;
do
{
    ledger = await bench.BalancesAsync();
    if (ledger.GetProperty("held").GetString() == "0") break;
    await Task.Delay(500);
} while (DateTime.UtcNow < settleDeadline);

BigInteger Units(string name) => BigInteger.Parse(ledger.GetProperty(name).GetString()!, invariant);
var lookupsPerSettled = executed == 0 ? 0 : (await bench.ReceiptLookupsAsync() - lookupsBefore) / (double)executed;
var lawHolds = Units("deposited") == Units("available") + Units("held") + Units("settled");

TextReport.Write(Console.Out, [quotes, slowRpcQuotes, flow]);
var executeP95 = executeLatency.GetValueAtPercentile(95) / 1000.0;
var executeP99 = executeLatency.GetValueAtPercentile(99) / 1000.0;
Console.WriteLine(string.Create(invariant, $"execute latency (flow scenario): p50 {executeLatency.GetValueAtPercentile(50) / 1000.0:0.00} ms, p95 {executeP95:0.00} ms, p99 {executeP99:0.00} ms"));
Console.WriteLine(string.Create(invariant,
    $"after the run: {executed} executed (incl. warm-up), held {ledger.GetProperty("held").GetString()}, settled fees {ledger.GetProperty("settled").GetString()} USDT units, ledger law {(lawHolds ? "holds" : "BROKEN")}"));
if (ledger.GetProperty("held").GetString() != "0")
{
    Console.WriteLine($"still held after 60 s; the pool reports: {(await bench.PoolViewAsync()).GetProperty("transactions")}");
    await bench.DescribeUnsettledAsync(Console.Out);
}
Console.WriteLine(string.Create(invariant,
    $"receipt lookups: {lookupsPerSettled:0.00} RPC calls per settled transaction (blocks read per block, not polled per transaction)"));
Console.WriteLine();

// The abuse scenarios (issue 9), each against a well-behaved dApp's steady quotes.
Console.WriteLine("Abuse scenarios: a well-behaved dApp's quote latency " + LatencyRegression.Rule + " counts as held.");
var abuse = await AbuseScenarios.StartAsync(bench, options.Quick, Console.Out);
await abuse.UnknownKeyFloodAsync();
await abuse.MaxSizeQuotesAsync();
await abuse.BucketFloodAsync();
await abuse.OverloadAsync(executeP99);

Check[] checks =
[
    new("quote endpoint >= 50% of bare HTTP requests/s", ratio >= 0.5, ratio.ToString("P0", invariant)),
    new($"quote p99 <= 10 ms at {options.QuoteRate}/s", quotes.Latency.P99Ms <= 10, quotes.Latency.P99Ms.ToString("0.00 ms", invariant)),
    new("quote p99 with 200 ms RPC latency within 2 ms of without", slowRpcDelta <= 2 && slowRpcQuotes.SuccessRatio >= 0.999,
        string.Create(invariant, $"{slowRpcQuotes.Latency.P99Ms:0.00} ms vs {quotes.Latency.P99Ms:0.00} ms ({slowRpcDelta:+0.00;-0.00} ms), {slowRpcQuotes.SuccessRatio:P2} ok")),
    new($"flow success >= 99.9% at {options.FlowRate} tx/s for {options.FlowSeconds} s", flow.Requests > 0 && flow.SuccessRatio >= 0.999, flow.SuccessRatio.ToString("P2", invariant)),
    new("execute p95 <= 100 ms", executeP95 <= 100, executeP95.ToString("0.00 ms", invariant)),
    new("every executed transaction settled, ledger law holds", lawHolds && ledger.GetProperty("held").GetString() == "0", lawHolds ? "yes" : "no"),
    .. abuse.Checks,
];
foreach (var check in checks) Console.WriteLine(check);

Directory.CreateDirectory(options.ReportDirectory);
var reportPath = Path.Combine(options.ReportDirectory, "load-report.html");
HtmlReport.Write(reportPath, "Grand Paymaster load scenarios", [quotes, slowRpcQuotes, flow, .. abuse.Results], new Dictionary<string, string>
{
    ["machine"] = $"{Environment.ProcessorCount} cores",
    ["journal baseline"] = string.Create(invariant, $"{journal.EventsPerSecond:0} events/s"),
    ["bare HTTP baseline"] = string.Create(invariant, $"{bare.RequestsPerSecond:0} requests/s"),
    ["quote endpoint (closed loop)"] = string.Create(invariant, $"{quotesMax.RequestsPerSecond:0} requests/s = {ratio:P0} of bare HTTP"),
    ["execute latency p95"] = string.Create(invariant, $"{executeP95:0.00} ms"),
    ["receipt lookups per settled transaction"] = string.Create(invariant, $"{lookupsPerSettled:0.00} RPC calls"),
});
Console.WriteLine($"HTML report: {Path.GetFullPath(reportPath)}");
return checks.All(c => c.Met) ? 0 : 1;

internal sealed record BenchOptions(bool Quick, double QuoteRate, double FlowRate, int FlowSeconds, string ReportDirectory)
{
    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(false, 1_000, 100, 60, "bench-results");
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--quick" => o with { Quick = true, FlowSeconds = Math.Min(o.FlowSeconds, 10) },
                "--quote-rate" => o with { QuoteRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--flow-rate" => o with { FlowRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--flow-seconds" => o with { FlowSeconds = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--report" => o with { ReportDirectory = Next() },
                _ => throw new ArgumentException($"Unknown option {args[i]}"),
            };
        }

        return o;
    }
}
