using System.Net;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// A quote is capped by the chain's own block gas limit, read from its latest block: on a chain whose blocks hold 1,000,000
/// gas (well under the paymaster's 30,000,000 ceiling), a transaction above that could never be mined and is refused.
/// </summary>
public sealed class BlockGasLimitTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";
    private const string User = "0x1111111111111111111111111111111111111111";

    [Fact]
    public async Task A_quote_above_the_latest_blocks_gas_limit_is_refused_and_one_at_the_limit_is_priced()
    {
        await Rpc.RequestAsync("evm_setBlockGasLimit", ["0xf4240"]); // 1,000,000
        await Rpc.RequestAsync("evm_mine", []);
        await using var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337L, Chains.Chains[0].RpcUrl)]);
        await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        var client = node.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync(directCalls: [(31337, Target)]);
        await client.DepositAsync(dappId, "USDT", "100000000");

        using var above = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = User, to = Target, gasLimit = "1000001", feeToken = "USDT", callType = "direct" });
        using var atLimit = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = User, to = Target, gasLimit = "1000000", feeToken = "USDT", callType = "direct" });
        // The target's 990,000 fits, but not the forwarder's transaction around it.
        using var forwarded = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = User, to = Target, gasLimit = "990000", feeToken = "USDT" });

        var refused = await PaymasterClient.ExpectAsync(above, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("gas_limit_exceeded", refused.GetProperty("code").GetString());
        Assert.Contains("1000000", refused.GetProperty("detail").GetString());
        await PaymasterClient.ExpectAsync(atLimit, HttpStatusCode.Created);
        var forwardedRefusal = await PaymasterClient.ExpectAsync(forwarded, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("gas_limit_exceeded", forwardedRefusal.GetProperty("code").GetString());
    }
}
