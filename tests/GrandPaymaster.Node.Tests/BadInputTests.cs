using System.Net;
using System.Text;
using System.Text.Json;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Bad input never reaches an actor unvalidated, never answers 500 and never changes state: every case
/// is a 4xx problem+json with its stable code, and the journal's row count does not move.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class BadInputTests(NodeFixture fixture)
{
    private const string Sender = "0x1111111111111111111111111111111111111111";
    private const string Target = "0x2222222222222222222222222222222222222222";

    /// <summary>A contract that loops until its gas runs out: no block holds enough gas for it (set up once).</summary>
    private const string GasBurner = "0x3333333333333333333333333333333333333333";

    /// <summary>The reference of the setup's deposit of 100 USDT.</summary>
    private const string DepositReference = "bad-input-wire-1";

    // One setup for all cases (xUnit makes a new instance per case): it waits for a quote to expire.
    private static readonly SemaphoreSlim SetupGate = new(1, 1);
    private static Setup? _setup;

    private sealed record Setup(string DappId, string ApiKey, string LiveQuote, string ExpiredQuote, string ForeignQuote);

    /// <summary>A bad request: method, path, body (raw text or null), content type, API key choice, extra headers; expected status and code.</summary>
    public sealed record Case(string Name, HttpMethod Method, string Path, string? Body, int Status, string Code, string ContentType = "application/json",
        string Key = "valid", string? IdempotencyKey = "k-1", string? Bearer = null);

    /// <summary>Stands for the test admin's token in a case (the token is issued when the node starts).</summary>
    private const string AdminBearer = "<admin>";

    public static TheoryData<string> Names => new(Cases("{live}", "{expired}", "{foreign}", "{unknown}").Select(c => c.Name));

    private static IEnumerable<Case> Cases(string live, string expired, string foreign, string unknown)
    {
        var quote = HttpMethod.Post;
        string Q(string json) => json;
        yield return new("malformed JSON", quote, "/v1/quotes", "{\"chainId\": 31337,", 400, "invalid_request");
        yield return new("JSON array instead of object", quote, "/v1/quotes", "[]", 400, "invalid_request");
        yield return new("missing chainId", quote, "/v1/quotes", Q($"{{\"sender\":\"{Sender}\",\"to\":\"{Target}\",\"feeToken\":\"USDT\"}}"), 400, "invalid_request");
        yield return new("missing feeToken", quote, "/v1/quotes", Q($"{{\"chainId\":31337,\"sender\":\"{Sender}\",\"to\":\"{Target}\"}}"), 400, "invalid_request");
        yield return new("extra field", quote, "/v1/quotes", Q($"{{\"chainId\":31337,\"sender\":\"{Sender}\",\"to\":\"{Target}\",\"feeToken\":\"USDT\",\"tip\":1}}"), 400, "invalid_request");
        yield return new("non-hex data", quote, "/v1/quotes", Body(data: "\"0xzz\""), 400, "invalid_request");
        yield return new("odd-length hex data", quote, "/v1/quotes", Body(data: "\"0xabc\""), 400, "invalid_request");
        yield return new("data without 0x", quote, "/v1/quotes", Body(data: "\"abcd\""), 400, "invalid_request");
        yield return new("negative gas limit", quote, "/v1/quotes", Body(gasLimit: "\"-1\""), 400, "invalid_request");
        yield return new("gas limit above 2^256", quote, "/v1/quotes", Body(gasLimit: "\"" + System.Numerics.BigInteger.Pow(2, 256) + "\""), 400, "invalid_request");
        yield return new("gas limit below a plain transfer", quote, "/v1/quotes", Body(gasLimit: "20999"), 400, "invalid_request");
        yield return new("value is not zero", quote, "/v1/quotes", Body(value: "\"1\""), 400, "invalid_request");
        yield return new("negative value", quote, "/v1/quotes", Body(value: "-5"), 400, "invalid_request");
        yield return new("chain id is not a number", quote, "/v1/quotes", Body(chainId: "\"abc\""), 400, "invalid_request");
        yield return new("unknown chain", quote, "/v1/quotes", Body(chainId: "999"), 400, "unknown_chain");
        yield return new("malformed address", quote, "/v1/quotes", Body(to: "\"0x1234\""), 400, "invalid_request");
        yield return new("unknown fee token", quote, "/v1/quotes", Body(token: "\"DOGE\""), 400, "invalid_request");
        yield return new("wrong content type", quote, "/v1/quotes", Body(), 415, "unsupported_media_type", ContentType: "text/plain");
        yield return new("oversized body", quote, "/v1/quotes", Body(data: "\"0x" + new string('a', 70_000) + "\""), 413, "payload_too_large");
        yield return new("call data above the chain's 16 KiB limit", quote, "/v1/quotes", Body(data: "\"0x" + new string('a', 2 * 16_385) + "\""), 400, "invalid_request");
        yield return new("missing API key", quote, "/v1/quotes", Body(), 401, "unauthorized", Key: "none");
        yield return new("wrong API key", quote, "/v1/quotes", Body(), 401, "unauthorized", Key: "wrong");
        yield return new("API key of a dApp that does not exist", quote, "/v1/quotes", Body(), 401, "unauthorized", Key: "unknown-dapp");
        yield return new("unknown quote", quote, $"/v1/quotes/{unknown}/execute", null, 404, "quote_not_found");
        yield return new("malformed quote id", quote, "/v1/quotes/not-a-quote/execute", null, 404, "quote_not_found");
        yield return new("another dApp's quote", quote, $"/v1/quotes/{foreign}/execute", null, 404, "quote_not_found");
        yield return new("expired quote", quote, $"/v1/quotes/{expired}/execute", null, 410, "quote_expired");
        yield return new("execute without Idempotency-Key", quote, $"/v1/quotes/{live}/execute", null, 400, "invalid_request", IdempotencyKey: null);
        yield return new("execute with an unknown field", quote, $"/v1/quotes/{live}/execute", "{\"amount\":\"1\"}", 400, "invalid_request");
        yield return new("status of a malformed quote id", HttpMethod.Get, "/v1/quotes/zzz", null, 404, "quote_not_found");
        yield return new("lone surrogate in a string", quote, "/v1/quotes", Body(token: "\"\\ud800\""), 400, "invalid_request");
        yield return new("lone surrogate in a field name", quote, "/v1/quotes", "{\"\\udc00\":1}", 400, "invalid_request");
        yield return new("unknown route", HttpMethod.Get, "/v1/nothing-here", null, 404, "not_found");
        yield return new("wrong method", HttpMethod.Delete, "/v1/balances", null, 405, "method_not_allowed");
        yield return new("deposit without operator token", quote, "/admin/v1/dapps/{dapp}/deposits", "{\"token\":\"USDT\",\"amount\":\"5\"}", 401, "unauthorized", Key: "none");
        yield return new("negative deposit", quote, "/admin/v1/dapps/{dapp}/deposits", "{\"token\":\"USDT\",\"amount\":\"-5\"}", 400, "invalid_request", Key: "none", Bearer: AdminBearer);
        yield return new("deposit of zero", quote, "/admin/v1/dapps/{dapp}/deposits", "{\"token\":\"USDT\",\"amount\":\"0\"}", 400, "invalid_request", Key: "none", Bearer: AdminBearer);
        yield return new("mixed-case address with a wrong EIP-55 checksum", quote, "/v1/quotes", Body(to: "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\""), 400, "invalid_request");
        yield return new("field given twice", quote, "/v1/quotes", Body() [..^1] + ",\"feeToken\":\"VCN\"}", 400, "invalid_request");
        yield return new("number longer than 2^256 could need", quote, "/v1/quotes", Body(gasLimit: "1" + new string('0', 78)), 400, "invalid_request");
        yield return new("gas limit with an exponent", quote, "/v1/quotes", Body(gasLimit: "5e4"), 400, "invalid_request");
        yield return new("gas limit with a fraction", quote, "/v1/quotes", Body(gasLimit: "50000.0"), 400, "invalid_request");
        yield return new("forwarded call whose forwarder transaction exceeds the block gas limit", quote, "/v1/quotes", Body(gasLimit: "29990000", callType: "forwarded"),
            422, "gas_limit_exceeded");
        yield return new("call that needs more gas than a block holds", quote, "/v1/quotes", Body(to: "\"" + GasBurner + "\"", callType: "forwarded"), 422, "gas_limit_exceeded");
        yield return new("revoke with a wrong EIP-55 checksum in the path", HttpMethod.Delete, "/admin/v1/dapps/{dapp}/direct-calls/31337/0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD?reason=typo",
            null, 400, "invalid_request", Key: "none", Bearer: AdminBearer);
        yield return new("deposit reference reused with another amount", quote, "/admin/v1/dapps/{dapp}/deposits",
            $"{{\"token\":\"USDT\",\"amount\":\"5\",\"reference\":\"{DepositReference}\"}}", 409, "deposit_reference_conflict", Key: "none", Bearer: AdminBearer);
        yield return new("deposit reference reused with another token", quote, "/admin/v1/dapps/{dapp}/deposits",
            $"{{\"token\":\"VCN\",\"amount\":\"100000000\",\"reference\":\"{DepositReference}\"}}", 409, "deposit_reference_conflict", Key: "none", Bearer: AdminBearer);
        yield return new("surcharge outside 20-50%", quote, "/admin/v1/dapps", "{\"name\":\"x\",\"surchargeBps\":6000}", 400, "invalid_request", Key: "none", Bearer: AdminBearer);
    }

    private static string Body(string chainId = "31337", string to = "\"" + Target + "\"", string token = "\"USDT\"", string? data = null, string? gasLimit = null,
        string? value = null, string? callType = null)
    {
        var extra = (data is null ? "" : $",\"data\":{data}") + (gasLimit is null ? "" : $",\"gasLimit\":{gasLimit}") + (value is null ? "" : $",\"value\":{value}") +
                    (callType is null ? "" : $",\"callType\":\"{callType}\"");
        return $"{{\"chainId\":{chainId},\"sender\":\"{Sender}\",\"to\":{to},\"feeToken\":{token}{extra}}}";
    }

    private async Task<Setup> SetUpOnceAsync()
    {
        await SetupGate.WaitAsync();
        try
        {
            if (_setup is not null) return _setup;
            var client = fixture.Client;
            var (dappId, apiKey) = await client.RegisterDappAsync("bad-input", directCalls: [(31337, Target)]);
            using (var deposit = await client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/deposits",
                       new { token = "USDT", amount = "100000000", reference = DepositReference }, bearer: client.OperatorToken))
                await PaymasterClient.ExpectAsync(deposit, HttpStatusCode.OK);
            await fixture.Rpc(31337).RequestAsync("anvil_setCode", [GasBurner, "0x5b600056"]); // JUMPDEST PUSH1 0 JUMP: loops forever
            var (_, otherKey) = await client.RegisterDappAsync("someone-else", directCalls: [(31337, Target)]);
            var body = new { chainId = 31337, sender = Sender, to = Target, gasLimit = "50000", feeToken = "USDT", callType = "direct" };
            var expired = await QuoteIdAsync(client, apiKey, body);
            var foreign = await QuoteIdAsync(client, otherKey, body);
            await Task.Delay(NodeFixture.QuoteValidity + TimeSpan.FromMilliseconds(500));
            var live = await QuoteIdAsync(client, apiKey, body);
            return _setup = new Setup(dappId, apiKey, live, expired, foreign);
        }
        finally
        {
            SetupGate.Release();
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_bad_request_gets_a_problem_with_its_code_and_changes_nothing(string name)
    {
        var setup = await SetUpOnceAsync();
        var @case = Cases(setup.LiveQuote, setup.ExpiredQuote, setup.ForeignQuote, setup.LiveQuote[..^32] + new string('0', 32)).Single(c => c.Name == name);
        var rowsBefore = await StableJournalRowsAsync();

        using var request = new HttpRequestMessage(@case.Method, @case.Path.Replace("{dapp}", setup.DappId));
        if (@case.Body is not null) request.Content = new StringContent(@case.Body, Encoding.UTF8, @case.ContentType);
        var key = @case.Key switch
        {
            "valid" => setup.ApiKey,
            "wrong" => setup.ApiKey[..^4] + "beef",
            "unknown-dapp" => "gpm_no-such-dapp_0123456789abcdef",
            _ => null,
        };
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        if (@case.IdempotencyKey is not null) request.Headers.Add("Idempotency-Key", @case.IdempotencyKey);
        if (@case.Bearer is not null)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", @case.Bearer == AdminBearer ? fixture.Client.OperatorToken : @case.Bearer);
        using var response = await fixture.Node.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == @case.Status, $"{name}: expected {@case.Status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(@case.Code, problem.GetProperty("code").GetString());
        Assert.Equal(@case.Status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Equal(rowsBefore, fixture.Node.Journal.Rows());
    }

    [Fact]
    public async Task A_deposit_retried_with_its_reference_amount_and_token_answers_the_balances_and_credits_nothing()
    {
        var setup = await SetUpOnceAsync();
        var rowsBefore = await StableJournalRowsAsync();

        using var retry = await fixture.Client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{setup.DappId}/deposits",
            new { token = "USDT", amount = "100000000", reference = DepositReference }, bearer: fixture.Client.OperatorToken);

        var balances = await PaymasterClient.ExpectAsync(retry, HttpStatusCode.OK);
        Assert.Contains("100000000", balances.GetRawText());
        Assert.Equal(rowsBefore, fixture.Node.Journal.Rows());
    }

    [Fact]
    public void The_table_has_at_least_twenty_five_distinct_bad_requests() =>
        Assert.True(Cases("a", "b", "c", "d").Select(c => c.Name).Distinct().Count() >= 25);

    private async Task<long> StableJournalRowsAsync()
    {
        // Settlements of earlier tests may still be landing; wait until the journal is quiet.
        var rows = fixture.Node.Journal.Rows();
        for (var quiet = 0; quiet < 2;)
        {
            await Task.Delay(100);
            var now = fixture.Node.Journal.Rows();
            quiet = now == rows ? quiet + 1 : 0;
            rows = now;
        }

        return rows;
    }

    private static async Task<string> QuoteIdAsync(PaymasterClient client, string apiKey, object body)
    {
        using var response = await client.QuoteAsync(apiKey, body);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
    }
}
