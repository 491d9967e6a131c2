using System.Globalization;
using System.Net;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Every bad forwarded request is refused with its code before any hold (nothing in the dApp's journal, nothing held),
/// and a call straight from a pool wallet goes only to a target an operator listed, with the listing journaled.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ForwardedRefusalTests(NodeFixture fixture)
{
    private const long ChainId = 31337;

    private string Recorder => TestContracts.For(ChainId).SenderRecorder.ToChecksumString();

    [Fact]
    public async Task A_signature_by_anyone_but_the_sender_or_none_at_all_is_refused_as_invalid_signature()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var quote = await user.QuoteAsync(client, apiKey, ChainId, Recorder);

        await AssertRefusedAsync(await user.ExecuteAsync(client, apiKey, quote, ForwardedUser.SignWith(EthKey.Generate(), quote)), HttpStatusCode.BadRequest, "invalid_signature");
        await AssertRefusedAsync(await client.ExecuteAsync(apiKey, QuoteId(quote), "no-signature"), HttpStatusCode.BadRequest, "invalid_signature");
        await AssertNothingHeldAsync(client, dappId, apiKey, quote);
    }

    [Fact]
    public async Task A_target_that_does_not_trust_the_forwarder_is_refused_as_untrusted_target()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var storeOne = await fixture.DeployStoreOneAsync(ChainId);
        var quote = await user.QuoteAsync(client, apiKey, ChainId, storeOne, data: "0x", gasLimit: "50000");

        await AssertRefusedAsync(await user.ExecuteAsync(client, apiKey, quote), HttpStatusCode.UnprocessableEntity, "untrusted_target");
        await AssertNothingHeldAsync(client, dappId, apiKey, quote);
    }

    [Fact]
    public async Task A_request_whose_nonce_was_already_mined_is_refused_as_nonce_stale()
    {
        var (client, _, apiKey) = await FundedDappAsync();
        var (otherClient, otherDapp, otherKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        // Two dApps quote the same user: both get the user's nonce 0; the first one's request is mined.
        var first = await user.QuoteAsync(client, apiKey, ChainId, Recorder);
        var second = await user.QuoteAsync(otherClient, otherKey, ChainId, Recorder);
        Assert.Equal(Nonce(first), Nonce(second));
        using (var executed = await user.ExecuteAsync(client, apiKey, first)) await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, QuoteId(first), "settled", TimeSpan.FromSeconds(30));

        await AssertRefusedAsync(await user.ExecuteAsync(otherClient, otherKey, second), HttpStatusCode.Conflict, "nonce_stale");
        await AssertNothingHeldAsync(otherClient, otherDapp, otherKey, second);
    }

    [Fact]
    public async Task A_request_whose_deadline_passed_between_quote_and_execute_is_refused_as_request_expired()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var user = ForwardedUser.New();
        var quote = await user.QuoteAsync(client, apiKey, ChainId, Recorder);
        var signature = user.Sign(quote);
        var deadline = DateTimeOffset.FromUnixTimeSeconds(long.Parse(
            quote.GetProperty("forwardRequest").GetProperty("typedData").GetProperty("message").GetProperty("deadline").GetString()!, CultureInfo.InvariantCulture));
        await Task.Delay(deadline - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200));

        await AssertRefusedAsync(await user.ExecuteAsync(client, apiKey, quote, signature), HttpStatusCode.Gone, "request_expired");
        await AssertNothingHeldAsync(client, dappId, apiKey, quote);
    }

    [Fact]
    public async Task A_direct_call_goes_only_to_a_target_an_operator_listed_and_the_listing_is_journaled()
    {
        var (client, dappId, apiKey) = await FundedDappAsync();
        var target = await fixture.DeployStoreOneAsync(ChainId);
        var body = new { chainId = ChainId, sender = "0x1111111111111111111111111111111111111111", to = target, gasLimit = "60000", feeToken = "USDT", callType = "direct" };

        using (var refused = await client.QuoteAsync(apiKey, body))
            Assert.Equal("direct_call_not_allowed", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.Forbidden)).GetProperty("code").GetString());

        var listed = await client.AllowDirectCallAsync(dappId, ChainId, target, reason: "legacy game contract without ERC-2771");
        Assert.Contains(listed.GetProperty("directCalls").EnumerateArray(), t => t.GetProperty("target").GetString() == target.ToLowerInvariant());
        Assert.Equal(1, fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.direct-call-allowed"));
        Assert.Equal(1, fixture.Node.Journal.RowsMentioning("dapp.evt.direct-call-allowed", "legacy game contract without ERC-2771", "operator:tester"));

        using var quoted = await client.QuoteAsync(apiKey, body);
        var quote = await PaymasterClient.ExpectAsync(quoted, HttpStatusCode.Created);
        Assert.Equal("direct", quote.GetProperty("callType").GetString());
        Assert.Equal(JsonValueKind.Null, quote.GetProperty("forwardRequest").ValueKind);
        using (var executed = await client.ExecuteAsync(apiKey, QuoteId(quote), "direct-" + Guid.NewGuid()))
            await PaymasterClient.ExpectAsync(executed, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, QuoteId(quote), "settled", TimeSpan.FromSeconds(30));

        using var revoked = await client.SendAsync(HttpMethod.Delete, $"/admin/v1/dapps/{dappId}/direct-calls/{ChainId}/{target}?reason=migrated", null,
            bearer: client.OperatorToken);
        Assert.Empty((await PaymasterClient.ExpectAsync(revoked, HttpStatusCode.OK)).GetProperty("directCalls").EnumerateArray());
        Assert.Equal(1, fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.direct-call-revoked"));
        using (var again = await client.QuoteAsync(apiKey, body))
            Assert.Equal("direct_call_not_allowed", (await PaymasterClient.ExpectAsync(again, HttpStatusCode.Forbidden)).GetProperty("code").GetString());
        LedgerLaw.AssertHolds(await client.BalancesAsync(apiKey));
    }

    private async Task<(PaymasterClient Client, string DappId, string ApiKey)> FundedDappAsync()
    {
        var client = fixture.Client;
        var (dappId, apiKey) = await client.RegisterDappAsync();
        await client.DepositAsync(dappId, "USDT", "100000000");
        return (client, dappId, apiKey);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        using (response)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(code, (await PaymasterClient.ExpectAsync(response, status)).GetProperty("code").GetString());
        }
    }

    /// <summary>No hold was written for the quote, and the dApp's books show nothing held.</summary>
    private async Task AssertNothingHeldAsync(PaymasterClient client, string dappId, string apiKey, JsonElement quote)
    {
        Assert.Equal(0, fixture.Node.Journal.RowsMentioning("dapp.evt.fee-deducted", QuoteId(quote)));
        Assert.Equal(0, fixture.Node.Journal.Rows($"dapp-{dappId}", "dapp.evt.fee-deducted"));
        var balances = await client.BalancesAsync(apiKey);
        Assert.Equal("0", balances.GetProperty("balances").GetProperty("USDT").GetProperty("held").GetString());
        Assert.Equal("100000000", balances.GetProperty("balances").GetProperty("USDT").GetProperty("available").GetString());
    }

    private static string QuoteId(JsonElement quote) => quote.GetProperty("quoteId").GetString()!;

    private static string Nonce(JsonElement quote) =>
        quote.GetProperty("forwardRequest").GetProperty("typedData").GetProperty("message").GetProperty("nonce").GetString()!;
}
