using System.Globalization;
using System.Net;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Node.Tests;

/// <summary>A user with a key and no ETH, as the tests' dApps quote and sign for them.</summary>
public sealed class ForwardedUser(EthKey key)
{
    /// <summary><c>record("hello")</c> on SenderRecorder (encoded by ethers 6.17.0).</summary>
    public const string RecordHello =
        "0xe11126480000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000568656c6c6f000000000000000000000000000000000000000000000000000000";

    public static ForwardedUser New() => new(EthKey.Generate());

    public EthKey Key => key;

    public string Address => key.Address.ToChecksumString();

    public object QuoteBody(long chainId, string to, string data = RecordHello, string? gasLimit = null, string token = "USDT") => gasLimit is null
        ? new { chainId, sender = Address, to, data, feeToken = token }
        : new { chainId, sender = Address, to, data, gasLimit, feeToken = token };

    /// <summary>Quotes a forwarded call for this user; the quote's JSON.</summary>
    public async Task<JsonElement> QuoteAsync(PaymasterClient client, string apiKey, long chainId, string to, string data = RecordHello, string? gasLimit = null)
    {
        using var response = await client.QuoteAsync(apiKey, QuoteBody(chainId, to, data, gasLimit));
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created);
    }

    /// <summary>The user's 65-byte signature (r ‖ s ‖ v, v 27/28) of the quote's forwardRequest signing hash.</summary>
    public string Sign(JsonElement quote) => SignWith(key, quote);

    public static string SignWith(EthKey signer, JsonElement quote)
    {
        var digest = Hex.Decode(quote.GetProperty("forwardRequest").GetProperty("signingHash").GetString()!);
        return Hex.Encode(signer.Sign(digest).ToRsv());
    }

    public Task<HttpResponseMessage> ExecuteAsync(PaymasterClient client, string apiKey, JsonElement quote, string? signature = null) =>
        client.ExecuteAsync(apiKey, quote.GetProperty("quoteId").GetString()!, "key-" + Guid.NewGuid(), new { signature = signature ?? Sign(quote) });

    /// <summary><c>SenderRecorder.calls(who)</c>, read from the chain.</summary>
    public static async Task<BigInteger> CallsAsync(EthRpcClient rpc, string recorder, string who)
    {
        var data = Hex.Decode("0x7155afca" + new string('0', 24) + who[2..].ToLowerInvariant());
        return new BigInteger(await rpc.CallAsync(new CallRequest(recorder, data)), isUnsigned: true, isBigEndian: true);
    }

    public static string Text(BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
