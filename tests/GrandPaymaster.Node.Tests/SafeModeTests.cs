using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// S2 on a real node and a real anvil: the base fee jumps ×5, the pool turns to SAFE_MODE within two oracle ticks,
/// quotes above the high-value limit are refused while small ones are served with a larger buffer, and the pool
/// returns to NORMAL only after the market has been calm for the calm period.
/// </summary>
public sealed class SafeModeTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";
    private static readonly TimeSpan CalmPeriod = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task S2_a_fivefold_base_fee_enters_safe_mode_refuses_high_value_serves_small_and_leaves_after_the_calm_period()
    {
        await using var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)],
            "--Gpm:Market:Hocon=gpm.market.gas.volatility-window = 5\ngpm.market.safe-mode.calm-period = 4s");
        Assert.Equal(HttpStatusCode.OK, (await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        var client = node.Client;
        var (_, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);

        // A steady 10 gwei first (getting there from anvil's 1 gwei is itself a spike: wait until the pool is calm again).
        await SetBaseFeeAsync(10_000_000_000);
        await MedianAtLeastAsync(client, 8_000_000_000);
        await PoolWhereAsync(client, p => Mode(p) == "normal", TimeSpan.FromSeconds(40));

        await SetBaseFeeAsync(50_000_000_000);
        var spiked = Stopwatch.StartNew();
        var safe = await PoolWhereAsync(client, p => Mode(p) == "safe_mode", TimeSpan.FromSeconds(10));
        Assert.True(spiked.Elapsed <= 2 * Tick + TimeSpan.FromSeconds(1), $"safe mode after {spiked.Elapsed}");
        // The reason is the journaled inputs: the jump shows as a spike against the trailing average, as volatility, or both.
        var reason = safe.GetProperty("reason").GetString()!;
        Assert.True(reason.Contains("gas spike", StringComparison.Ordinal) || reason.Contains("volatility", StringComparison.Ordinal), reason);
        Assert.Contains("trailing average", reason);

        using (var big = await client.QuoteAsync(apiKey, Body("5000000")))
            Assert.Equal("safe_mode_high_value_rejected", (await PaymasterClient.ExpectAsync(big, (HttpStatusCode)422)).GetProperty("code").GetString());
        using (var small = await client.QuoteAsync(apiKey, Body("21000")))
        {
            var breakdown = (await PaymasterClient.ExpectAsync(small, HttpStatusCode.Created)).GetProperty("breakdown");
            Assert.True(breakdown.GetProperty("bufferBps").GetInt32() >= 4_000, $"buffer {breakdown.GetProperty("bufferBps")} is not doubled");
        }

        var safeSince = safe.GetProperty("since").GetDateTimeOffset();
        var normal = await PoolWhereAsync(client, p => Mode(p) == "normal", TimeSpan.FromSeconds(40));
        // The medians' window (5 ticks) has to settle on the new level before the calm period even starts.
        Assert.True(normal.GetProperty("since").GetDateTimeOffset() - safeSince >= CalmPeriod, $"{safeSince} → {normal.GetProperty("since")}");
        Assert.Contains("calm for 4 s", normal.GetProperty("reason").GetString());
        Assert.True(node.Journal.Rows("pool-31337", "pool.evt.mode-changed") >= 2); // both transitions journaled
        using (var big = await client.QuoteAsync(apiKey, Body("5000000")))
            await PaymasterClient.ExpectAsync(big, HttpStatusCode.Created);
    }

    private static object Body(string gasLimit) =>
        new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = Target, gasLimit, feeToken = "USDT", callType = "direct" };

    private async Task SetBaseFeeAsync(long wei)
    {
        await Rpc.RequestAsync("anvil_setNextBlockBaseFeePerGas", ["0x" + wei.ToString("x")]);
        await Rpc.RequestAsync("evm_mine", []);
    }

    private static string Mode(JsonElement pool) => pool.GetProperty("mode").GetString()!;

    private static async Task MedianAtLeastAsync(PaymasterClient client, long wei)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/market/31337", null, bearer: client.OperatorToken);
            var market = await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
            if (market.GetProperty("medianWeiPerGas").GetString() is { } median && long.Parse(median) >= wei) return;
            Assert.True(DateTime.UtcNow < deadline, $"the median never reached {wei}: {market}");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonElement> PoolWhereAsync(PaymasterClient client, Func<JsonElement, bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: client.OperatorToken);
            var pool = (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == 31337);
            if (condition(pool)) return pool;
            Assert.True(DateTime.UtcNow < deadline, $"the pool never got there: {pool}");
            await Task.Delay(100);
        }
    }
}
