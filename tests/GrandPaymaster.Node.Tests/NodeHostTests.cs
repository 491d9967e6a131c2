using System.Net;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Pools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

public sealed class NodeHostTests : IAsyncLifetime
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = new();
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-node-test-" + Guid.NewGuid().ToString("N"));
    private DevnetLauncher _chains = null!;

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync(DevnetChainSpec.DefaultsOnFreePorts(), _http);
        await TestContracts.DeployAsync(_chains, _http);
    }

    [Fact]
    public async Task Ready_answers_200_once_the_node_is_up_the_journal_answers_every_chain_answers_and_is_priced()
    {
        await using var node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains));

        using var live = await node.Http.GetAsync("/health/live");
        using var ready = await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, ReadyWithin);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal(["chains", "cluster", "directory", "journal", "market"], checks.EnumerateObject().Select(c => c.Name).Order());
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_single_node_is_a_cluster_of_its_own_with_every_role_and_keep_majority_downing()
    {
        await using var node = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains));
        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, ReadyWithin);
        var system = node.App.Services.GetRequiredService<ActorSystem>();
        var config = system.Settings.Config;

        Assert.Equal(["core", "edge", "vault"], Akka.Cluster.Cluster.Get(system).SelfMember.Roles.Order());
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Contains("SplitBrainResolverProvider", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("ddata", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Equal("akka.persistence.journal.sql", config.GetString("akka.persistence.journal.plugin"));
        Assert.IsType<GrandPaymaster.Actors.Serialization.PaymasterSerializer>(
            system.Serialization.FindSerializerFor(new PoolCommands.GetPoolState(new ChainId(1))));
    }

    [Fact]
    public async Task Ready_answers_503_while_a_configured_forwarder_has_no_code_and_200_once_it_is_deployed()
    {
        var rpc = new EthRpcClient(_http, _chains.Chains[1].RpcUrl);
        var deployer = new DevWallets("node-host-tests").Deployer(31338);
        var expected = DevnetContracts.AddressesFor(deployer.Address).Forwarder;
        await using var node = await TestNode.StartAsync(_dataDirectory, [("devnet-b", 31338, _chains.Chains[1].RpcUrl)],
            [$"--Gpm:Chains:0:Forwarder={expected}"]);
        await node.WaitForStatusAsync("/health/live", HttpStatusCode.OK, ReadyWithin);

        var deadline = DateTime.UtcNow + ReadyWithin;
        JsonElement chains;
        do
        {
            using var ready = await node.Http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            chains = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("chains");
            if (chains.GetProperty("status").GetString() == "Unhealthy") break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        Assert.Contains($"no contract at its forwarder {expected}", chains.GetProperty("description").GetString());

        await DevnetContracts.DeployAsync(rpc, 31338, deployer, AnvilDevAccounts.Key(3));

        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, ReadyWithin);
    }

    [Fact]
    public async Task A_forwarder_that_is_not_an_address_stops_the_node_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(_dataDirectory, [("devnet-b", 31338, _chains.Chains[1].RpcUrl)],
            ["--Gpm:Chains:0:Forwarder=0x1234"]));

        Assert.Contains("not an address", error.ToString());
    }

    [Fact]
    public async Task Ready_answers_503_and_names_the_chain_that_does_not_answer()
    {
        var dead = new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}");
        await using var node = await TestNode.StartAsync(_dataDirectory,
            [("devnet-a", 31337, _chains.Chains[0].RpcUrl), ("dead-chain", 999, dead)]);
        await node.WaitForStatusAsync("/health/live", HttpStatusCode.OK, ReadyWithin);

        // Wait for the cluster and journal to be ready, so the chain is the only thing left failing.
        var deadline = DateTime.UtcNow + ReadyWithin;
        JsonElement checks;
        do
        {
            using var ready = await node.Http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            checks = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
            if (checks.GetProperty("cluster").GetProperty("status").GetString() == "Healthy") break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);

        var chains = checks.GetProperty("chains");
        Assert.Equal("Unhealthy", chains.GetProperty("status").GetString());
        Assert.Contains("dead-chain", chains.GetProperty("description").GetString());
        Assert.DoesNotContain("devnet-a", chains.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Pool_state_survives_a_node_restart_on_the_same_journal_in_wal_mode()
    {
        PoolState before;
        await using (var first = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains)))
        {
            await first.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, ReadyWithin);
            before = await WaitForWorkersAsync(first, expected: 2);
        }

        await using var second = await TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains));
        await second.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, ReadyWithin);
        var after = await PoolStateAsync(second);

        Assert.Equal(before, after);
        var expected = new DevWallets("grand-paymaster-devnet");
        Assert.Equal(
            [Address.Parse(expected.PoolWorker(31337, 0).Address.ToChecksumString()), Address.Parse(expected.PoolWorker(31337, 1).Address.ToChecksumString())],
            after.Workers);
        Assert.Equal(2, CountJournalRows("pool-31337"));
        Assert.Equal("wal", JournalMode());
    }

    private static async Task<PoolState> WaitForWorkersAsync(TestNode node, int expected)
    {
        var deadline = DateTime.UtcNow + ReadyWithin;
        while (true)
        {
            var state = await PoolStateAsync(node);
            if (state.Workers.Count >= expected || DateTime.UtcNow > deadline) return state;
            await Task.Delay(100);
        }
    }

    private static async Task<PoolState> PoolStateAsync(TestNode node)
    {
        var region = await node.App.Services.GetRequiredService<ActorRegistry>().GetAsync<ChainPoolRegion>();
        return await region.Ask<PoolState>(new PoolCommands.GetPoolState(new ChainId(31337)), TimeSpan.FromSeconds(10));
    }

    private long CountJournalRows(string persistenceId)
    {
        using var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(_dataDirectory, PersistenceHocon.JournalFile));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    private string? JournalMode()
    {
        using var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(_dataDirectory, PersistenceHocon.JournalFile));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        return command.ExecuteScalar() as string;
    }

    public async Task DisposeAsync()
    {
        await _chains.DisposeAsync();
        _http.Dispose();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
