using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Pools;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace GrandPaymaster.Actors.Tests.Pools;

public sealed class ChainPoolActorTests : IDisposable
{
    private static readonly ChainId Chain = new(31337);
    private static readonly Address First = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    private static readonly Address Second = Address.Parse("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    /// <summary>A pool with no RPC endpoint and no keys: registration and queries work, relays would wait.</summary>
    private static readonly PoolDependencies NoChain = new(_ => null, new DevWalletKeys("unused", 0), TimeProvider.System, _ => new PoolSettings(), (_, _) => { });

    private readonly ITestOutputHelper _output;
    private readonly TempJournal _journal = new();

    public ChainPoolActorTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Registered_wallets_are_recovered_from_the_journal_by_a_new_actor_system()
    {
        PoolState before;
        using (var kit = new TestKit(_journal.Config, output: _output))
        {
            var pool = kit.Sys.ActorOf(ChainPoolActor.PropsFor(Chain, NoChain, ActorRefs.Nobody));
            Assert.True((await Register(pool, First)).Added);
            Assert.True((await Register(pool, Second)).Added);
            before = await pool.Ask<PoolState>(new PoolCommands.GetPoolState(Chain), TimeSpan.FromSeconds(20));
            await kit.Sys.Terminate();
        }

        using var restarted = new TestKit(_journal.Config, output: _output);
        var recovered = restarted.Sys.ActorOf(ChainPoolActor.PropsFor(Chain, NoChain, ActorRefs.Nobody));
        var after = await recovered.Ask<PoolState>(new PoolCommands.GetPoolState(Chain), TimeSpan.FromSeconds(20));

        Assert.Equal([First, Second], after.Workers);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Registering_a_known_wallet_again_writes_no_event()
    {
        using var kit = new TestKit(_journal.Config, output: _output);
        var pool = kit.Sys.ActorOf(ChainPoolActor.PropsFor(Chain, NoChain, ActorRefs.Nobody));
        await Register(pool, First);
        var rowsAfterFirst = JournalRows();

        var again = await Register(pool, First);

        Assert.False(again.Added);
        Assert.Equal(rowsAfterFirst, JournalRows());
        Assert.Equal(1, rowsAfterFirst);
    }

    [Fact]
    public async Task Every_event_in_the_journal_names_who_registered_the_wallet_and_why()
    {
        using var kit = new TestKit(_journal.Config, output: _output);
        var pool = kit.Sys.ActorOf(ChainPoolActor.PropsFor(Chain, NoChain, ActorRefs.Nobody));
        await Register(pool, First);

        using var connection = new SqliteConnection(Actors.Persistence.PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, "journal.db"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT persistence_id, manifest, message FROM journal";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("pool-31337", reader.GetString(0));
        Assert.Equal("pool.evt.worker-registered", reader.GetString(1));
        var json = System.Text.Encoding.UTF8.GetString((byte[])reader.GetValue(2));
        Assert.Contains("operator:test", json);
        Assert.Contains("test registration", json);
    }

    private static Task<PoolReplies.WorkerWalletRegistration> Register(IActorRef pool, Address wallet) =>
        pool.Ask<PoolReplies.WorkerWalletRegistration>(new PoolCommands.RegisterWorkerWallet(
            Chain, wallet, new Meta(DateTimeOffset.UtcNow, "operator:test", "test registration", Guid.NewGuid().ToString("N"))), TimeSpan.FromSeconds(20));

    private long JournalRows()
    {
        using var connection = new SqliteConnection(Actors.Persistence.PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, "journal.db"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose() => _journal.Dispose();
}
