using GrandPaymaster.Chain.Devnet;

namespace GrandPaymaster.Node.Tests;

/// <summary>The node as an operator runs it: a separate process with its own devnet chains, stopped with Ctrl-C.</summary>
public sealed class NodeProcessTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-node-process-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_node_with_devnet_gets_ready_and_ctrl_c_stops_it_and_both_chains()
    {
        var chains = new[] { ("devnet-a", 31337L), ("devnet-b", 31338L) }
            .Select(c => (c.Item1, c.Item2, new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}")));
        using var node = NodeProcess.Start(_dataDirectory, DevnetChainSpec.FreeLoopbackPort(), chains, "--Gpm:Devnet:Enabled=true",
            "--Logging:LogLevel:GrandPaymaster.Node.Hosting.DevnetHostedService=Information");

        await node.WaitForReadyAsync(TimeSpan.FromSeconds(60));
        // Each chain names its contracts, at the addresses the devnet deployer always creates them.
        foreach (var chainId in new[] { 31337L, 31338L })
        {
            var expected = DevnetContracts.AddressesFor(new Chain.Wallets.DevWallets("grand-paymaster-devnet").Deployer(chainId).Address);
            Assert.Contains(node.Output, line => line.Contains($"forwarder {expected.Forwarder}", StringComparison.Ordinal)
                                                 && line.Contains($"SenderRecorder {expected.SenderRecorder}", StringComparison.Ordinal));
        }

        var anvils = node.Children().Where(p => p.Name == "anvil").ToArray();
        Assert.Equal(2, anvils.Length);

        await node.InterruptAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, node.ExitCode);
        Assert.All(anvils, chain => Assert.False(Directory.Exists($"/proc/{chain.Pid}"), $"anvil {chain.Pid} is still running"));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
