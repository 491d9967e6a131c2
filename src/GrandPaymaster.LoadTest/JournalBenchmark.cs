using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.LoadTest;

/// <summary>
/// Journal write throughput: <c>entities</c> real <see cref="ChainPoolActor"/>s each persist
/// <c>eventsPerEntity</c> single-event writes to a fresh SQLite journal (WAL), all at once.
/// </summary>
public static class JournalBenchmark
{
    /// <summary>Registration needs neither a chain nor keys: the benchmark measures the journal alone.</summary>
    private static readonly PoolDependencies NoChain = new(_ => null, new DevWalletKeys("unused", 0), TimeProvider.System, _ => new PoolSettings(), (_, _) => { });

    public sealed record Measurement(int Entities, int Events, TimeSpan Elapsed)
    {
        public double EventsPerSecond => Events / Elapsed.TotalSeconds;
    }

    public static async Task<Measurement> RunAsync(int entities, int eventsPerEntity)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-bench-journal-" + Guid.NewGuid().ToString("N"));
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = OFF")
            .WithFallback(PersistenceHocon.For(PersistenceSettings.Sqlite(dataDirectory)))
            .WithFallback(PersistenceHocon.Load("akka.hocon"));
        var system = ActorSystem.Create("journal-bench", config);
        try
        {
            var pools = Enumerable.Range(1, entities)
                .Select(i => (ChainId: new ChainId(i), Ref: system.ActorOf(ChainPoolActor.PropsFor(new ChainId(i), NoChain, ActorRefs.Nobody))))
                .ToArray();
            // Warm-up: recovery and table creation are not what is measured.
            await Task.WhenAll(pools.Select(p => p.Ref.Ask<PoolState>(new PoolCommands.GetPoolState(p.ChainId), TimeSpan.FromSeconds(30))));

            var meta = Meta.System("bench", "journal benchmark", DateTimeOffset.UtcNow);
            var stopwatch = Stopwatch.StartNew();
            var replies = pools.SelectMany(p => Enumerable.Range(0, eventsPerEntity).Select(n =>
                p.Ref.Ask<PoolReplies.WorkerWalletRegistration>(
                    new PoolCommands.RegisterWorkerWallet(p.ChainId, Address.Parse($"0x{n:x40}"), meta), TimeSpan.FromMinutes(2))));
            await Task.WhenAll(replies);
            stopwatch.Stop();
            return new Measurement(entities, entities * eventsPerEntity, stopwatch.Elapsed);
        }
        finally
        {
            await system.Terminate();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
