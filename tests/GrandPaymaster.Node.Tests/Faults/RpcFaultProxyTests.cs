using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Transactions;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// The fault proxy against a real anvil, seen through the project's own <see cref="EthRpcClient"/>: each fault turns
/// into the failure the client is meant to report, and what was forwarded really reached the chain.
/// </summary>
public sealed class RpcFaultProxyTests(AnvilChain chain) : IClassFixture<AnvilChain>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly EthAddress Recipient = EthAddress.Parse("0x2222222222222222222222222222222222222222");
    private RpcFaultProxy _proxy = null!;

    public async Task InitializeAsync() => _proxy = await RpcFaultProxy.StartAsync(chain.RpcUrl);

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact]
    public async Task Without_a_rule_a_call_is_forwarded_and_answered_unchanged()
    {
        const string body = """{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}""";

        var (proxiedStatus, proxiedBody) = await PostAsync(_proxy.Url, body);
        var (directStatus, directBody) = await PostAsync(chain.RpcUrl, body);

        Assert.Equal(directStatus, proxiedStatus);
        Assert.Equal(directBody, proxiedBody);
        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_rpc_is_forwarded_as_is_and_not_counted()
    {
        var (proxiedStatus, proxiedBody) = await PostAsync(_proxy.Url, "this is not json");
        var (directStatus, directBody) = await PostAsync(chain.RpcUrl, "this is not json");

        Assert.Equal(directStatus, proxiedStatus);
        Assert.Equal(directBody, proxiedBody);
        Assert.Equal(0, _proxy.Calls(RpcFaultProxy.AnyMethod));
    }

    [Fact]
    public async Task Latency_answers_no_earlier_than_the_delay()
    {
        var delay = TimeSpan.FromMilliseconds(300);
        _proxy.Set("eth_chainId", new RpcFault.Latency(delay));

        var clock = Stopwatch.StartNew();
        var id = await Proxied().ChainIdAsync();

        Assert.True(clock.Elapsed >= delay, $"answered after {clock.Elapsed}, before the {delay} delay");
        Assert.Equal(AnvilChain.ChainId, id);
    }

    [Fact]
    public async Task Drop_never_answers_so_the_client_times_out()
    {
        _proxy.Set("eth_blockNumber", new RpcFault.Drop());

        await Assert.ThrowsAsync<RpcTimeoutException>(() => Proxied(TimeSpan.FromMilliseconds(300)).BlockNumberAsync());

        Assert.Equal(1, _proxy.Calls("eth_blockNumber"));
    }

    [Fact]
    public async Task Disposing_the_proxy_releases_a_dropped_call()
    {
        var proxy = await RpcFaultProxy.StartAsync(chain.RpcUrl);
        proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Drop());
        var held = new EthRpcClient(chain.Http, proxy.Url, TimeSpan.FromSeconds(60)).ChainIdAsync();
        await proxy.WaitForCallsAsync("eth_chainId", 1).WaitAsync(Patience);

        await proxy.DisposeAsync();

        // Far sooner than the client's own 60 s timeout, which would be an RpcTimeoutException.
        await Assert.ThrowsAsync<RpcTransportException>(() => held.WaitAsync(Patience));
    }

    [Fact]
    public async Task Error_answers_the_json_rpc_error_without_forwarding()
    {
        _proxy.Set("eth_sendRawTransaction", new RpcFault.Error(-32003, "nonce too low"));

        var transfer = await SendThroughProxyExpectingErrorAsync(-32003, "nonce too low");

        var onChain = await chain.Direct.RequestAsync("eth_getTransactionByHash", [transfer.TxHashHex]);
        Assert.Equal(JsonValueKind.Null, onChain.ValueKind);
    }

    [Fact]
    public async Task Error_keeps_the_request_id_as_raw_json()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Error(-32005, "limit exceeded"));

        var (_, body) = await PostAsync(_proxy.Url, """{"jsonrpc":"2.0","id":"call-42","method":"eth_blockNumber","params":[]}""");

        using var answer = JsonDocument.Parse(body);
        Assert.Equal("call-42", answer.RootElement.GetProperty("id").GetString());
        Assert.Equal(-32005, answer.RootElement.GetProperty("error").GetProperty("code").GetInt64());
        Assert.Equal("limit exceeded", answer.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Garbage_answers_bytes_the_client_reports_as_malformed()
    {
        _proxy.Set("eth_gasPrice", new RpcFault.Garbage());

        await Assert.ThrowsAsync<RpcMalformedResponseException>(() => Proxied().GasPriceAsync());
    }

    [Fact]
    public async Task Result_answers_a_well_formed_value_of_the_tests_choosing_without_asking_the_node()
    {
        _proxy.Set("eth_gasPrice", new RpcFault.Result("\"0x64\""));

        Assert.Equal(100, await Proxied().GasPriceAsync());
        Assert.NotEqual(100, await chain.Direct.GasPriceAsync());
    }

    [Fact]
    public async Task Forward_then_error_sends_the_transaction_but_answers_an_error()
    {
        _proxy.Set("eth_sendRawTransaction", new RpcFault.ForwardThenError(-32603, "upstream hiccup"));

        var transfer = await SendThroughProxyExpectingErrorAsync(-32603, "upstream hiccup");

        var receipt = await Chain.Devnet.DevnetFunder.WaitForReceiptAsync(chain.Direct, transfer.TxHashHex);
        Assert.True(receipt.Succeeded);
    }

    [Fact]
    public async Task Hide_receipts_on_every_method_hides_both_receipt_methods_and_forwards_the_rest()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.HideReceipts());
        var transfer = await SignTransferAsync();

        var hash = await Proxied().SendRawTransactionAsync(transfer.Raw);

        Assert.Equal(transfer.TxHashHex, hash, ignoreCase: true);
        await Chain.Devnet.DevnetFunder.WaitForReceiptAsync(chain.Direct, hash); // mined (automine finishes just after the send returns)
        Assert.Null(await Proxied().GetTransactionReceiptAsync(hash));
        Assert.Equal(JsonValueKind.Null, (await Proxied().RequestAsync("eth_getBlockReceipts", ["latest"])).ValueKind);
        Assert.Equal(JsonValueKind.Array, (await chain.Direct.RequestAsync("eth_getBlockReceipts", ["latest"])).ValueKind);
    }

    [Fact]
    public async Task Hide_receipts_on_one_receipt_method_leaves_the_other_alone()
    {
        _proxy.Set("eth_getTransactionReceipt", new RpcFault.HideReceipts());
        var hash = await chain.Direct.SendRawTransactionAsync((await SignTransferAsync()).Raw);
        await Chain.Devnet.DevnetFunder.WaitForReceiptAsync(chain.Direct, hash);

        Assert.Null(await Proxied().GetTransactionReceiptAsync(hash));
        Assert.Equal(JsonValueKind.Array, (await Proxied().RequestAsync("eth_getBlockReceipts", ["latest"])).ValueKind);
    }

    [Fact]
    public async Task Dead_answers_503_which_the_client_reports_as_a_transport_failure()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Dead());

        var error = await Assert.ThrowsAsync<RpcTransportException>(() => Proxied().BlockNumberAsync());

        Assert.Contains("503", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_upstream_is_answered_with_502()
    {
        await using var proxy = await RpcFaultProxy.StartAsync(new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}"));

        var error = await Assert.ThrowsAsync<RpcTransportException>(() => new EthRpcClient(chain.Http, proxy.Url).ChainIdAsync());

        Assert.Contains("502", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_chain_id_answers_the_configured_id_and_forwards_other_methods()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.WrongChainId(1));

        Assert.Equal(1, await Proxied().ChainIdAsync());
        Assert.Equal(AnvilChain.ChainId, await chain.Direct.ChainIdAsync());
        Assert.Equal(await chain.Direct.BlockNumberAsync(), await Proxied().BlockNumberAsync());
    }

    [Fact]
    public async Task Times_faults_only_the_next_count_calls_then_forwards()
    {
        _proxy.Set("eth_chainId", new RpcFault.Times(2, new RpcFault.Error(-32005, "rate limited")));

        await Assert.ThrowsAsync<RpcErrorException>(() => Proxied().ChainIdAsync());
        await Assert.ThrowsAsync<RpcErrorException>(() => Proxied().ChainIdAsync());
        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
        Assert.Equal(4, _proxy.Calls("eth_chainId"));
    }

    [Fact]
    public async Task An_expired_times_rule_falls_back_to_the_rule_for_every_method()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.WrongChainId(5));
        _proxy.Set("eth_chainId", new RpcFault.Times(1, new RpcFault.Dead()));

        await Assert.ThrowsAsync<RpcTransportException>(() => Proxied().ChainIdAsync());
        Assert.Equal(5, await Proxied().ChainIdAsync());
    }

    [Fact]
    public async Task A_rule_for_one_method_beats_the_rule_for_every_method()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Dead());
        _proxy.Set("eth_chainId", new RpcFault.Latency(TimeSpan.Zero));

        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
        await Assert.ThrowsAsync<RpcTransportException>(() => Proxied().BlockNumberAsync());
    }

    [Fact]
    public async Task A_rule_switched_off_at_run_time_stops_applying_to_new_calls_only()
    {
        _proxy.Set("eth_chainId", new RpcFault.Drop());
        var held = Proxied(TimeSpan.FromMilliseconds(500)).ChainIdAsync();
        await _proxy.WaitForCallsAsync("eth_chainId", 1).WaitAsync(Patience);

        _proxy.Clear("eth_chainId");

        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
        await Assert.ThrowsAsync<RpcTimeoutException>(() => held);
    }

    [Fact]
    public async Task Clear_all_removes_every_rule()
    {
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Dead());
        _proxy.Set("eth_chainId", new RpcFault.Garbage());
        await Assert.ThrowsAsync<RpcMalformedResponseException>(() => Proxied().ChainIdAsync());

        _proxy.ClearAll();

        Assert.Equal(AnvilChain.ChainId, await Proxied().ChainIdAsync());
        Assert.Equal(await chain.Direct.BlockNumberAsync(), await Proxied().BlockNumberAsync());
    }

    [Fact]
    public async Task Calls_counts_every_request_per_method_faulted_or_not_and_seen_keeps_arrival_order()
    {
        _proxy.Set("eth_gasPrice", new RpcFault.Error(-32000, "no"));

        await Proxied().ChainIdAsync();
        await Assert.ThrowsAsync<RpcErrorException>(() => Proxied().GasPriceAsync());
        await Proxied().BlockNumberAsync();
        await Assert.ThrowsAsync<RpcErrorException>(() => Proxied().GasPriceAsync());

        Assert.Equal(1, _proxy.Calls("eth_chainId"));
        Assert.Equal(2, _proxy.Calls("eth_gasPrice"));
        Assert.Equal(0, _proxy.Calls("eth_call"));
        Assert.Equal(4, _proxy.Calls(RpcFaultProxy.AnyMethod));
        Assert.Equal(["eth_chainId", "eth_gasPrice", "eth_blockNumber", "eth_gasPrice"], _proxy.Seen);
    }

    [Fact]
    public async Task Many_concurrent_calls_on_kept_alive_connections_are_all_answered()
    {
        // A short latency keeps the calls in flight together, so the client opens several connections and reuses them.
        _proxy.Set(RpcFaultProxy.AnyMethod, new RpcFault.Latency(TimeSpan.FromMilliseconds(20)));
        var rpc = Proxied();

        for (var round = 0; round < 3; round++)
        {
            var ids = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => rpc.ChainIdAsync()));
            Assert.All(ids, id => Assert.Equal(AnvilChain.ChainId, id));
        }

        Assert.Equal(192, _proxy.Calls("eth_chainId"));
    }

    private EthRpcClient Proxied(TimeSpan? timeout = null) => new(chain.Http, _proxy.Url, timeout);

    /// <summary>A 1-wei transfer from anvil's account 1 at its next nonce, signed but not sent.</summary>
    private async Task<SignedTransaction> SignTransferAsync()
    {
        var sender = AnvilDevAccounts.Key(1);
        var nonce = await chain.Direct.GetTransactionCountAsync(sender.Address.ToChecksumString(), BlockTag.Pending);
        var gasPrice = await chain.Direct.GasPriceAsync();
        return new Eip1559Transaction(AnvilChain.ChainId, nonce, gasPrice, gasPrice * 2, 21_000, Recipient, BigInteger.One, []).Sign(sender);
    }

    /// <summary>Sends a fresh transfer through the proxy and checks the error it answers; returns the transfer.</summary>
    private async Task<SignedTransaction> SendThroughProxyExpectingErrorAsync(long code, string message)
    {
        var transfer = await SignTransferAsync();
        var error = await Assert.ThrowsAsync<RpcErrorException>(() => Proxied().SendRawTransactionAsync(transfer.Raw));
        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.RpcMessage);
        return transfer;
    }

    private async Task<(int Status, string Body)> PostAsync(Uri url, string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await chain.Http.PostAsync(url, content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
