using System.Net;

namespace GrandPaymaster.Node.Tests;

/// <summary>A direct call's gas is simulated as sent by the quote's sender, so a target that checks its caller answers as it would for them.</summary>
[Collection(NodeCollection.Name)]
public sealed class DirectSimulationTests(NodeFixture fixture)
{
    private const string Owner = "0x1111111111111111111111111111111111111111";
    private const string Stranger = "0x4444444444444444444444444444444444444444";

    /// <summary>
    /// <c>CALLER PUSH20 owner EQ PUSH1 0x1e JUMPI PUSH1 0 DUP1 REVERT JUMPDEST STOP</c>: stops for the owner, reverts for anyone else.
    /// </summary>
    private const string OwnerOnlyCode = "0x33" + "73" + "1111111111111111111111111111111111111111" + "14" + "601e" + "57" + "6000" + "80" + "fd" + "5b" + "00";

    [Fact]
    public async Task A_direct_call_is_simulated_from_its_sender()
    {
        var target = await fixture.DeployAsync(31337, OwnerOnlyCode);
        var (_, apiKey) = await fixture.Client.RegisterDappAsync("owner-only", directCalls: [(31337, target)]);

        using var asOwner = await fixture.Client.QuoteAsync(apiKey, new { chainId = 31337, sender = Owner, to = target, feeToken = "USDT", callType = "direct" });
        using var asStranger = await fixture.Client.QuoteAsync(apiKey, new { chainId = 31337, sender = Stranger, to = target, feeToken = "USDT", callType = "direct" });

        await PaymasterClient.ExpectAsync(asOwner, HttpStatusCode.Created);
        var refused = await PaymasterClient.ExpectAsync(asStranger, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("simulation_reverted", refused.GetProperty("code").GetString());
    }
}
