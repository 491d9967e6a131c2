using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Chain.Tests.Devnet;

[Collection(AnvilCollection.Name)]
public sealed class DevnetLauncherTests(AnvilFixture anvil)
{
    [Fact]
    public async Task Each_chain_answers_with_its_own_chain_id()
    {
        Assert.Equal(31337, await anvil.Rpc(anvil.ChainA).ChainIdAsync());
        Assert.Equal(31338, await anvil.Rpc(anvil.ChainB).ChainIdAsync());
        Assert.Equal(["devnet-a", "devnet-b"], anvil.Launcher.Chains.Select(c => c.Spec.Name));
    }

    [Fact]
    public async Task Disposing_the_launcher_stops_every_anvil_process()
    {
        using var http = new HttpClient();
        var launcher = await DevnetLauncher.StartAsync([new DevnetChainSpec("throwaway", 4242, DevnetChainSpec.FreeLoopbackPort())], http);
        var chain = launcher.Chains[0];
        var process = chain.Process;
        var pid = process.Id;

        await launcher.DisposeAsync();

        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
        await Assert.ThrowsAsync<RpcTransportException>(() => new EthRpcClient(http, chain.RpcUrl).ChainIdAsync());
    }

    [Fact]
    public async Task A_chain_with_a_backstop_block_time_mines_blocks_without_transactions_and_each_transaction_at_once()
    {
        using var http = new HttpClient();
        await using var launcher = await DevnetLauncher.StartAsync([new DevnetChainSpec("backstop", 4343, DevnetChainSpec.FreeLoopbackPort(), BackstopBlockSeconds: 3)], http);
        var rpc = new EthRpcClient(http, launcher.Chains[0].RpcUrl);
        var before = await rpc.BlockNumberAsync();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await rpc.BlockNumberAsync() == before && waited.Elapsed < TimeSpan.FromSeconds(8)) await Task.Delay(50);
        Assert.True(await rpc.BlockNumberAsync() > before, $"no block in {waited.Elapsed} without transactions");

        // The next backstop block is ~3 s away: a transfer mined well before that was mined by automine.
        var started = System.Diagnostics.Stopwatch.StartNew();
        await DevnetFunder.FundAsync(rpc, 4343, AnvilDevAccounts.Key(0), [(GrandPaymaster.Chain.Crypto.EthKey.Generate(new Random(3)).Address, DevnetFunder.Ether)]);

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"a transfer took {started.Elapsed} to be mined: automine is off");
    }

    [Fact]
    public async Task A_chain_with_a_block_time_mines_only_at_that_interval_several_transactions_in_one_block()
    {
        using var http = new HttpClient();
        await using var launcher = await DevnetLauncher.StartAsync(
            [new DevnetChainSpec("interval", 4344, DevnetChainSpec.FreeLoopbackPort(), BlockTime: TimeSpan.FromMilliseconds(500))], http);
        var rpc = new EthRpcClient(http, launcher.Chains[0].RpcUrl);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await rpc.BlockNumberAsync() < 2 && waited.Elapsed < TimeSpan.FromSeconds(8)) await Task.Delay(50);
        Assert.True(await rpc.BlockNumberAsync() >= 2, $"fewer than 2 blocks in {waited.Elapsed} without transactions");

        // Three transfers sent together: without automine they wait for the next block and share it.
        var targets = Enumerable.Range(10, 3).Select(i => (GrandPaymaster.Chain.Crypto.EthKey.Generate(new Random(i)).Address, DevnetFunder.Ether)).ToArray();
        var sent = await DevnetFunder.FundAsync(rpc, 4344, AnvilDevAccounts.Key(0), targets);

        var blocks = new HashSet<System.Numerics.BigInteger>();
        foreach (var hash in sent) blocks.Add((await rpc.GetTransactionReceiptAsync(hash))!.BlockNumber);
        Assert.Equal(3, sent.Count);
        // Automine would have made three blocks; the sends take milliseconds, so at most one block boundary falls between them.
        Assert.InRange(blocks.Count, 1, 2);
    }

    [Fact]
    public async Task A_port_taken_by_another_chain_is_reported_not_silently_shared()
    {
        using var http = new HttpClient();
        var taken = anvil.ChainA.Spec.Port;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            DevnetLauncher.StartAsync([new DevnetChainSpec("clash", 5555, taken)], http));

        Assert.Contains(taken.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public async Task The_funder_tops_wallets_up_to_their_target_with_signed_transfers_and_leaves_funded_ones_alone()
    {
        var rpc = anvil.Rpc(anvil.ChainB);
        var wallet = GrandPaymaster.Chain.Crypto.EthKey.Generate(new Random(7)).Address;
        var target = 3 * DevnetFunder.Ether;

        var first = await DevnetFunder.FundAsync(rpc, 31338, AnvilDevAccounts.Key(1), [(wallet, target)]);
        var second = await DevnetFunder.FundAsync(rpc, 31338, AnvilDevAccounts.Key(1), [(wallet, target)]);

        Assert.Single(first);
        Assert.Empty(second);
        Assert.Equal(target, await rpc.GetBalanceAsync(wallet.ToChecksumString()));
    }
}
