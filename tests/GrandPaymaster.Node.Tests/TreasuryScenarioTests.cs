using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Wallets;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// S5 and S6 on a real node with a real anvil chain, the Orchestrator and the Vault as they run: a wallet below its minimum is
/// refilled before one below its warning level, both back at target; a vault whose transfers keep failing is retried with
/// backoff, paged once (a loopback PagerDuty receiver) and resolved once it can pay again, with one transfer on chain.
/// </summary>
public sealed class TreasuryScenarioTests : IAsyncLifetime
{
    private const long ChainId = 31337;
    private static readonly BigInteger Ether = DevnetFunder.Ether;
    private static readonly BigInteger Target = 50 * Ether;
    private static readonly DevWallets Wallets = new("grand-paymaster-devnet");

    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-treasury-" + Guid.NewGuid().ToString("N"));
    private DevnetLauncher _chains = null!;
    private PagerReceiver _pager = null!;

    private EthRpcClient Rpc => new(_chainHttp, _chains.Chains[0].RpcUrl);
    private static string Worker(int i) => Wallets.PoolWorker(ChainId, i).Address.ToChecksumString();
    private static string Vault => Wallets.Vault(ChainId).Address.ToChecksumString();

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", ChainId, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        await TestContracts.DeployAsync(Rpc, ChainId);
        _pager = await PagerReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _pager.DisposeAsync();
        await _chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    private Task SetBalanceAsync(string address, BigInteger wei) => Rpc.RequestAsync("anvil_setBalance", [address, "0x" + wei.ToString("x")]);

    private async Task<BigInteger> BalanceAsync(string address) =>
        BigInteger.Parse("0" + (await Rpc.RequestAsync("eth_getBalance", [address, "latest"])).GetString()![2..], NumberStyles.HexNumber);

    private async Task<long> NonceAsync(string address) =>
        long.Parse((await Rpc.RequestAsync("eth_getTransactionCount", [address, "latest"])).GetString()![2..], NumberStyles.HexNumber);

    private Task<TestNode> StartNodeAsync(params string[] extra) => TestNode.StartAsync(_dataDirectory, TestNode.ChainsOf(_chains), [.. Settings, .. extra]);

    private string[] Settings => [
        // Akka's HOCON parser refuses "}, " inside an object: one setting per line.
        "--Gpm:Treasury:Hocon=gpm.treasury.balance-every = 1s\ngpm.treasury.tick = 200ms\ngpm.treasury.page-after-failures = 3\n" +
        "gpm.treasury.retry { base = 1s, factor = 2.0, cap = 4s, jitter = 0.2 }",
        $"--Gpm:Alerts:Paging:Url={_pager.Url}", "--Gpm:Alerts:Paging:RoutingKey=treasury-test"];

    /// <summary>The orchestrator's events of one type, in journal order, through the audit query.</summary>
    private static async Task<JsonElement[]> OrchestratorEventsAsync(TestNode node, string type)
    {
        using var response = await node.Client.SendAsync(HttpMethod.Get, $"/admin/v1/audit?entity=orchestrator&type={type}&limit=500", null,
            bearer: node.AdminToken);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event").Clone())
            .ToArray();
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {within.TotalSeconds:0} s: {what}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task S5_a_wallet_below_its_minimum_is_refilled_before_one_below_its_warning_level_and_both_are_back_at_target()
    {
        await SetBalanceAsync(Vault, 500 * Ether);
        await SetBalanceAsync(Worker(1), 20 * Ether); // below warning (25): Warning
        await SetBalanceAsync(Worker(0), 5 * Ether); // below min (10): Critical
        await using var node = await StartNodeAsync();

        await EventuallyAsync(async () => await BalanceAsync(Worker(0)) >= Target && await BalanceAsync(Worker(1)) >= Target &&
                                          (await OrchestratorEventsAsync(node, "treasury.evt.top-up-succeeded")).Length == 2, TimeSpan.FromSeconds(60),
            "both pool wallets back at target and both top-ups recorded");

        var queued = (await OrchestratorEventsAsync(node, "treasury.evt.top-up-queued"))
            .ToDictionary(e => e.GetProperty("NeedId").GetString()!, e => (Wallet: e.GetProperty("Wallet").GetString()!, Priority: e.GetProperty("Priority").GetString()!));
        var started = (await OrchestratorEventsAsync(node, "treasury.evt.top-up-started")).Select(e => queued[e.GetProperty("NeedId").GetString()!]).ToArray();
        Assert.Equal(2, started.Length);
        Assert.Equal((Worker(0).ToLowerInvariant(), "Critical"), (started[0].Wallet.ToLowerInvariant(), started[0].Priority));
        Assert.Equal((Worker(1).ToLowerInvariant(), "Warning"), (started[1].Wallet.ToLowerInvariant(), started[1].Priority));
        Assert.Equal(2, (await OrchestratorEventsAsync(node, "treasury.evt.top-up-succeeded")).Length);
        Assert.Equal(2, await NonceAsync(Vault)); // one transfer each, no more
        // The vault paid 45 + 30 coins, and a little gas (two plain transfers).
        Assert.InRange(500 * Ether - await BalanceAsync(Vault), 75 * Ether, 75 * Ether + Ether / 100);
    }

    [Fact]
    public async Task S6_with_the_vaults_rpc_failing_top_ups_are_retried_with_backoff_paged_once_and_resolved_once_with_one_transfer_on_chain()
    {
        await SetBalanceAsync(Vault, 500 * Ether);
        await SetBalanceAsync(Worker(0), 5 * Ether);
        await SetBalanceAsync(Worker(1), Target);
        // The vault reaches the chain through its own provider (Gpm:Chains:N:VaultRpcUrls), which is down; the pools' is fine.
        await using var vaultProvider = await Faults.RpcFaultProxy.StartAsync(_chains.Chains[0].RpcUrl);
        vaultProvider.Set(Faults.RpcFaultProxy.AnyMethod, new Faults.RpcFault.Error(-32603, "vault provider outage"));
        await using var node = await StartNodeAsync($"--Gpm:Chains:0:VaultRpcUrls:0={vaultProvider.Url}");

        await EventuallyAsync(async () => _pager.Triggers >= 1, TimeSpan.FromSeconds(90), "a PagerDuty trigger after three failed top-ups");
        var failures = await OrchestratorEventsAsync(node, "treasury.evt.top-up-failed");
        Assert.True(failures.Length >= 3, $"{failures.Length} failures");
        Assert.All(failures, f => Assert.True(f.GetProperty("Retryable").GetBoolean()));
        var at = failures.Select(f => f.GetProperty("Meta").GetProperty("At").GetDateTimeOffset()).ToArray();
        var waits = failures.Select(f => f.GetProperty("NextAttemptAt").GetDateTimeOffset()).Zip(at, (next, now) => next - now).ToArray();
        Assert.True(waits[1] > waits[0] && waits[2] > waits[1], $"backoff grows: {string.Join(", ", waits)}");
        Assert.True(at[2] - at[1] >= waits[1] * 0.9, "the next attempt waited for its backoff");
        Assert.Equal(0, await NonceAsync(Vault)); // nothing was sent while the vault could not reach the chain

        vaultProvider.ClearAll();
        await EventuallyAsync(async () => await BalanceAsync(Worker(0)) >= Target && _pager.Resolves >= 1, TimeSpan.FromSeconds(90),
            "the wallet refilled and the page resolved");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal((1, 1), (_pager.Triggers, _pager.Resolves));
        Assert.Equal(1, await NonceAsync(Vault));
        Assert.Equal(Target, await BalanceAsync(Worker(0)));
    }

    [Fact]
    public async Task S6_a_vault_that_cannot_pay_is_retried_with_backoff_paged_once_and_resolved_once_with_one_transfer_on_chain()
    {
        await SetBalanceAsync(Vault, 0); // every transfer the vault signs is refused by the chain (insufficient funds)
        await SetBalanceAsync(Worker(0), 5 * Ether);
        await SetBalanceAsync(Worker(1), Target);
        await using var node = await StartNodeAsync();

        await EventuallyAsync(async () => _pager.Triggers >= 1, TimeSpan.FromSeconds(60), "a PagerDuty trigger after three failed top-ups");
        var failures = await OrchestratorEventsAsync(node, "treasury.evt.top-up-failed");
        Assert.True(failures.Length >= 3, $"{failures.Length} failures");
        // Backoff: each retry waits longer than the one before, up to the cap (base 1 s, factor 2, jitter up to 20 % off).
        var waits = failures.Select(f => f.GetProperty("NextAttemptAt").GetDateTimeOffset() - f.GetProperty("Meta").GetProperty("At").GetDateTimeOffset()).ToArray();
        Assert.InRange(waits[0].TotalSeconds, 0.75, 1.05);
        Assert.InRange(waits[1].TotalSeconds, 1.55, 2.05);
        Assert.InRange(waits[2].TotalSeconds, 3.15, 4.05);
        var trigger = Assert.Single(_pager.Bodies, b => b.GetProperty("event_action").GetString() == "trigger");
        Assert.Equal("topup_failing:chain 31337", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("treasury-test", trigger.GetProperty("routing_key").GetString());

        // The vault can pay again: the next retry succeeds, the page is resolved once, and exactly one transfer reached the wallet.
        await SetBalanceAsync(Vault, 500 * Ether);
        await EventuallyAsync(async () => await BalanceAsync(Worker(0)) >= Target && _pager.Resolves >= 1, TimeSpan.FromSeconds(60),
            "the wallet refilled and the page resolved");
        await Task.Delay(TimeSpan.FromSeconds(3)); // nothing more may follow
        Assert.Equal(1, _pager.Triggers);
        Assert.Equal(1, _pager.Resolves);
        Assert.Equal(1, await NonceAsync(Vault));
        Assert.Equal(Target, await BalanceAsync(Worker(0)));
        Assert.Single(await OrchestratorEventsAsync(node, "treasury.evt.top-up-succeeded"));
    }
}
