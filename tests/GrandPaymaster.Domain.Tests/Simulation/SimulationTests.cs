using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace GrandPaymaster.Domain.Tests.Simulation;

/// <summary>
/// Runs the <see cref="Simulator"/> over many seeds: 2,000 by default, <c>GPM_SIM_SEEDS=n</c> for more, and
/// <c>GPM_SIM_SEED=n</c> for exactly one (traced, to read what happened). A failure names its seed and how to replay it.
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    private const int DefaultSeeds = 2_000;

    /// <summary>What a default run must have exercised somewhere among its seeds, or the simulation proves little.</summary>
    private static readonly string[] MustHappen =
    [
        "crash", "pool restart", "dApp restart", "reorg", "outsider", "outage", "TxBroadcastFailed", "TxReplaced SpeedUp", "TxReplaced Cancel", "TxDropped by our cancel",
        "TxDropped nonce taken by another", "GapFillSubmitted", "GapFilled", "TxConfirmed", "SettlementsAcknowledged", "PoolModeChanged Paused Auto",
        "PoolModeChanged Disabled None", "RelayRefused", "FeeSettled", "FeeReleased", "execute InProgress",
    ];

    [Fact]
    public void Every_seed_keeps_the_books_and_the_chain_in_agreement()
    {
        var seeds = Seeds();
        var watch = Stopwatch.StartNew();
        var results = RunAll(seeds, new SimulationOptions { Trace = seeds.Count == 1 });
        output.WriteLine($"{seeds.Count} seed(s) in {watch.Elapsed.TotalSeconds:0.0} s");

        var totals = results.SelectMany(r => r.Counts).GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Sum(c => c.Value));
        foreach (var (what, count) in totals.OrderBy(t => t.Key, StringComparer.Ordinal)) output.WriteLine($"  {what}: {count}");

        var failures = results.Where(r => r.Failed).OrderBy(r => r.Seed).ToArray();
        foreach (var broken in failures.GroupBy(f => f.Invariant)) output.WriteLine($"broken \"{broken.Key}\" by seeds {string.Join(", ", broken.Select(f => f.Seed))}");
        Assert.True(failures.Length == 0,
            $"{failures.Length} of {seeds.Count} seeds failed (seeds {string.Join(", ", failures.Take(20).Select(f => f.Seed))}). The first:\n{failures.FirstOrDefault()?.Failure}");
        if (seeds.Count >= DefaultSeeds)
            Assert.All(MustHappen, what => Assert.True(totals.GetValueOrDefault(what) > 0, $"no seed exercised \"{what}\""));
    }

    [Fact]
    public void A_seed_replays_the_same_run()
    {
        foreach (var seed in new[] { 1, 7, 42 })
            Assert.Equal(Simulator.Run(seed, new SimulationOptions()).Counts, Simulator.Run(seed, new SimulationOptions()).Counts);
    }

    [Fact]
    public void A_pool_that_releases_a_hold_on_an_unknown_verdict_is_caught_and_its_seed_replays_the_failure()
    {
        var broken = new SimulationOptions { ReleaseOnUnknownVerdict = true };

        var failure = Enumerable.Range(0, 500).Select(seed => Simulator.Run(seed, broken)).FirstOrDefault(r => r.Failed);

        Assert.NotNull(failure);
        output.WriteLine(failure.Failure);
        Assert.Contains($"Seed {failure.Seed} broke the invariant \"{failure.Invariant}\"", failure.Failure);
        Assert.Contains($"GPM_SIM_SEED={failure.Seed}", failure.Failure);
        Assert.Contains(failure.Invariant, new[] { Invariants.NoReleaseWhileMinable, Invariants.MinedCallNotReleased, Invariants.EveryMinedCallSettled });
        Assert.Equal(failure.Failure, Simulator.Run(failure.Seed, broken).Failure);
        Assert.False(Simulator.Run(failure.Seed, new SimulationOptions()).Failed, "the same seed holds with the real pool host");
    }

    private static IReadOnlyList<SimulationResult> RunAll(IReadOnlyList<int> seeds, SimulationOptions options)
    {
        var results = new ConcurrentBag<SimulationResult>();
        Parallel.ForEach(seeds, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, seed => results.Add(Simulator.Run(seed, options)));
        return results.ToArray();
    }

    private static IReadOnlyList<int> Seeds()
    {
        if (Number("GPM_SIM_SEED") is { } one) return [one];
        return Enumerable.Range(0, Number("GPM_SIM_SEEDS") ?? DefaultSeeds).ToArray();
    }

    private static int? Number(string variable) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
}
