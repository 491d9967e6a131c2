using System.Globalization;
using System.Numerics;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The node holding the Orchestrator and the Vault is SIGKILLed while a top-up's transfer is signed and broadcast but not mined:
/// after a restart on the same journal the top-up completes exactly once on chain (one transfer from the vault, the wallet at target).
/// </summary>
public sealed class TreasuryCrashTests : SingleChain
{
    private static readonly BigInteger Ether = DevnetFunder.Ether;
    private static readonly DevWallets Wallets = new("grand-paymaster-devnet");

    private Task SetBalanceAsync(string address, BigInteger wei) => Rpc.RequestAsync("anvil_setBalance", [address, "0x" + wei.ToString("x")]);

    private async Task<BigInteger> BalanceAsync(string address) =>
        BigInteger.Parse("0" + (await Rpc.RequestAsync("eth_getBalance", [address, "latest"])).GetString()![2..], NumberStyles.HexNumber);

    private async Task<long> NonceAsync(string address) =>
        long.Parse((await Rpc.RequestAsync("eth_getTransactionCount", [address, "latest"])).GetString()![2..], NumberStyles.HexNumber);

    [Fact]
    public async Task A_node_killed_during_a_top_up_completes_it_exactly_once_on_chain_after_restart()
    {
        var vault = Wallets.Vault(31337).Address.ToChecksumString();
        var low = Wallets.PoolWorker(31337, 0).Address.ToChecksumString();
        await SetBalanceAsync(vault, 500 * Ether);
        await SetBalanceAsync(low, 5 * Ether);
        await SetBalanceAsync(Wallets.PoolWorker(31337, 1).Address.ToChecksumString(), 50 * Ether);
        var chains = TestNode.ChainsOf(Chains).ToArray();
        var port = DevnetChainSpec.FreeLoopbackPort();
        string[] treasury = ["--Gpm:Treasury:Hocon=gpm.treasury.balance-every = 1s\ngpm.treasury.tick = 200ms"];
        var journal = new JournalProbe(DataDirectory);

        // Blocks stop being mined: the vault's transfer is signed, journaled and broadcast, and stays pending while the node dies.
        await Rpc.RequestAsync("evm_setAutomine", [false]);
        using (var first = NodeProcess.Start(DataDirectory, port, chains, treasury))
        {
            await first.WaitForReadyAsync(TimeSpan.FromSeconds(60));
            for (var deadline = DateTime.UtcNow.AddSeconds(60); journal.Rows("vault", "vault.evt.top-up-signed") == 0;)
            {
                Assert.True(DateTime.UtcNow < deadline, "the vault never signed the top-up");
                await Task.Delay(200);
            }

            await Task.Delay(500); // the broadcast follows the journaled signature
            await first.KillAsync();
        }

        Assert.Equal(0, journal.Rows("orchestrator", "treasury.evt.top-up-succeeded"));
        await Rpc.RequestAsync("evm_mine", []);
        await Rpc.RequestAsync("evm_setAutomine", [true]);

        using var second = NodeProcess.Start(DataDirectory, port, chains, treasury);
        await second.WaitForReadyAsync(TimeSpan.FromSeconds(60));
        for (var deadline = DateTime.UtcNow.AddSeconds(60); journal.Rows("orchestrator", "treasury.evt.top-up-succeeded") == 0;)
        {
            Assert.True(DateTime.UtcNow < deadline, "the top-up did not complete after the restart");
            await Task.Delay(250);
        }

        await Task.Delay(TimeSpan.FromSeconds(3)); // a duplicate, if there were one, has time to show
        Assert.Equal(1, await NonceAsync(vault)); // one transfer left the vault, ever
        Assert.Equal(50 * Ether, await BalanceAsync(low)); // 5 + 45: back at target, once
        Assert.Equal(1, journal.Rows("vault", "vault.evt.top-up-signed"));
        Assert.Equal(1, journal.Rows("vault", "vault.evt.top-up-completed"));
        Assert.Equal(1, journal.Rows("orchestrator", "treasury.evt.top-up-succeeded"));
    }
}
