using System.Diagnostics;
using System.Numerics;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Chain.Tests.Devnet;
using GrandPaymaster.Chain.Transactions;
using Microsoft.Extensions.Time.Testing;

namespace GrandPaymaster.Chain.Tests.Rpc;

[Collection(AnvilCollection.Name)]
public sealed class ChainEndpointsTests(AnvilFixture anvil)
{
    private const long OurChain = 31337;
    private static readonly Func<EthRpcClient, CancellationToken, Task<BigInteger>> BlockNumber = (c, t) => c.BlockNumberAsync(t);
    private readonly FakeTimeProvider _time = new();

    // ---- failover -------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_dead_endpoint_is_failed_over_to_a_live_one_in_under_a_second()
    {
        var endpoints = Endpoints([ClosedPort("dead#0"), Anvil("live#1")]);

        var watch = Stopwatch.StartNew();
        var block = await endpoints.CallAsync(BlockNumber);
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"failover took {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(await anvil.Rpc(anvil.ChainA).BlockNumberAsync(), block);
        Assert.NotNull(HealthOf(endpoints, "dead#0").LastFailureAt);
        Assert.Equal(EndpointState.Healthy, HealthOf(endpoints, "live#1").State);
    }

    [Fact]
    public async Task A_silent_endpoint_is_failed_over_to_a_live_one_in_under_a_second()
    {
        await using var silent = await CannedHttpServer.StartAsync(_ => new CannedReply.Silence());
        var endpoints = Endpoints([Client(silent, "silent#0"), Anvil("live#1")]);

        var watch = Stopwatch.StartNew();
        await endpoints.CallAsync(BlockNumber);
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"failover took {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(1, silent.TotalRequests);
        Assert.True(HealthOf(endpoints, "silent#0").ErrorRate > 0);
    }

    [Theory]
    [InlineData(503)]
    [InlineData(502)]
    [InlineData(429)]
    public async Task An_endpoint_answering_a_server_error_is_failed_over(int status)
    {
        await using var failing = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(status));
        var endpoints = Endpoints([Client(failing, "failing#0"), Anvil("live#1")]);

        await endpoints.CallAsync(BlockNumber);

        Assert.Equal(1, failing.TotalRequests);
        Assert.NotNull(HealthOf(endpoints, "failing#0").LastFailureAt);
    }

    [Fact]
    public async Task An_endpoint_answering_garbage_after_a_good_chain_id_is_failed_over()
    {
        await using var garbage = await CannedHttpServer.NodeAsync(OurChain, _ => new CannedReply.Body("<html>gateway</html>"));
        var endpoints = Endpoints([Client(garbage, "garbage#0"), Anvil("live#1")]);

        var block = await endpoints.CallAsync(BlockNumber);

        Assert.Equal(await anvil.Rpc(anvil.ChainA).BlockNumberAsync(), block);
        Assert.Equal(1, garbage.Requests("eth_blockNumber"));
    }

    [Fact]
    public async Task A_json_rpc_error_or_a_revert_is_thrown_without_failover_and_without_opening_the_breaker()
    {
        await using var spare = await CannedHttpServer.NodeAsync(OurChain);
        var endpoints = Endpoints([Anvil("anvil#0"), Client(spare, "spare#1")], new ChainEndpointSettings { FailuresToOpen = 2 });
        var reverting = EthKey.Generate(new Random(11)).Address.ToChecksumString();
        await anvil.Rpc(anvil.ChainA).RequestAsync("anvil_setCode", [reverting, "0x60006000fd"]);

        for (var i = 0; i < 4; i++)
        {
            var error = await Assert.ThrowsAsync<RpcErrorException>(() => endpoints.CallAsync((c, t) => c.RequestAsync("eth_noSuchMethod", [], ct: t)));
            Assert.Equal(-32601, error.Code);
            await Assert.ThrowsAsync<RpcRevertException>(() => endpoints.CallAsync((c, t) => c.CallAsync(new CallRequest(reverting), ct: t)));
        }

        Assert.Equal(0, spare.TotalRequests);
        var health = HealthOf(endpoints, "anvil#0");
        Assert.Equal(EndpointState.Healthy, health.State);
        Assert.Equal(0, health.ErrorRate);
        Assert.Null(health.LastFailureAt);
    }

    // ---- circuit breaker ------------------------------------------------------------------------------------

    [Fact]
    public async Task An_endpoint_whose_breaker_opened_is_skipped_without_io_until_the_break_is_over_and_then_rechecked()
    {
        await using var node = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(503));
        var settings = new ChainEndpointSettings { FailuresToOpen = 3, BreakDuration = TimeSpan.FromSeconds(2) };
        var endpoints = Endpoints([Client(node, "flaky#0")], settings);
        var changes = new List<bool>();
        endpoints.AvailabilityChanged += changes.Add;

        for (var i = 0; i < 3; i++) await Assert.ThrowsAsync<RpcTransportException>(() => endpoints.CallAsync(BlockNumber));

        Assert.Equal(EndpointState.Open, HealthOf(endpoints, "flaky#0").State);
        Assert.False(endpoints.AnyAvailable);
        await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        Assert.Equal(3, node.TotalRequests);

        node.AnswerWith(CannedHttpServer.ChainHandler(OurChain));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(BigInteger.One, await endpoints.CallAsync(BlockNumber));
        Assert.Equal(4, node.Requests("eth_chainId"));
        Assert.Equal(1, node.Requests("eth_blockNumber"));
        Assert.Equal(EndpointState.Healthy, HealthOf(endpoints, "flaky#0").State);
        Assert.Equal(new[] { false, true }, changes);
    }

    [Fact]
    public async Task A_failed_trial_after_the_break_opens_the_breaker_again()
    {
        await using var node = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(503));
        var endpoints = Endpoints([Client(node, "down#0")], new ChainEndpointSettings { FailuresToOpen = 2 });
        for (var i = 0; i < 2; i++) await Assert.ThrowsAsync<RpcTransportException>(() => endpoints.CallAsync(BlockNumber));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(endpoints.AnyAvailable);
        await Assert.ThrowsAsync<RpcTransportException>(() => endpoints.CallAsync(BlockNumber));

        Assert.Equal(EndpointState.Open, HealthOf(endpoints, "down#0").State);
        await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        Assert.Equal(3, node.TotalRequests);
    }

    [Fact]
    public async Task When_every_endpoint_is_open_calls_fail_fast_and_nothing_is_available()
    {
        await using var a = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(503));
        await using var b = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(500));
        var endpoints = Endpoints([Client(a, "a#0"), Client(b, "b#1")], new ChainEndpointSettings { FailuresToOpen = 2 });
        for (var i = 0; i < 2; i++) await Assert.ThrowsAsync<RpcTransportException>(() => endpoints.CallAsync(BlockNumber));

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        var outcome = await endpoints.BroadcastAsync([0x02, 0xc0]);
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(200), $"took {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(4, a.TotalRequests + b.TotalRequests);
        Assert.False(endpoints.AnyAvailable);
        Assert.All(endpoints.Health, h => Assert.Equal(EndpointState.Open, h.State));
        Assert.Contains("31337", error.Message);
        Assert.DoesNotContain("127.0.0.1", error.Message);
        Assert.Equal(new BroadcastOutcome(BroadcastVerdict.Unknown, RefusalKind.None, "unknown: no endpoint available"), outcome);
    }

    // ---- chain id ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task An_endpoint_on_another_chain_is_never_used_and_shows_wrong_chain()
    {
        await using var wrong = await CannedHttpServer.NodeAsync(chainId: 1);
        var endpoints = Endpoints([Client(wrong, "wrong#0"), Anvil("anvil#1")]);

        for (var i = 0; i < 3; i++) await endpoints.CallAsync(BlockNumber);
        var outcome = await endpoints.BroadcastAsync([0x02, 0xc0]);

        Assert.Equal(1, wrong.Requests("eth_chainId"));
        Assert.Equal(1, wrong.TotalRequests);
        Assert.Equal(BroadcastVerdict.Refused, outcome.Verdict);
        Assert.Equal(EndpointState.WrongChain, HealthOf(endpoints, "wrong#0").State);
        Assert.True(endpoints.AnyAvailable);
    }

    [Fact]
    public async Task A_wrong_endpoint_is_used_again_only_after_a_later_check_answers_our_chain()
    {
        await using var node = await CannedHttpServer.NodeAsync(chainId: 1);
        var settings = new ChainEndpointSettings { ChainIdRecheck = TimeSpan.FromSeconds(30) };
        var endpoints = Endpoints([Client(node, "moved#0")], settings);

        await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        node.AnswerWith(CannedHttpServer.ChainHandler(OurChain));
        await Assert.ThrowsAsync<NoEndpointAvailableException>(() => endpoints.CallAsync(BlockNumber));
        Assert.False(endpoints.AnyAvailable);
        Assert.Equal(1, node.TotalRequests);

        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(BigInteger.One, await endpoints.CallAsync(BlockNumber));
        Assert.Equal(2, node.Requests("eth_chainId"));
        Assert.Equal(EndpointState.Healthy, HealthOf(endpoints, "moved#0").State);
    }

    [Fact]
    public async Task A_healthy_endpoint_is_rechecked_after_the_interval_and_dropped_once_it_serves_another_chain()
    {
        await using var node = await CannedHttpServer.NodeAsync(OurChain);
        var endpoints = Endpoints([Client(node, "node#0"), Anvil("anvil#1")]);
        await endpoints.CallAsync(BlockNumber);
        await endpoints.CallAsync(BlockNumber);
        Assert.Equal(1, node.Requests("eth_chainId"));

        node.AnswerWith(CannedHttpServer.ChainHandler(5));
        _time.Advance(TimeSpan.FromSeconds(30));
        var block = await endpoints.CallAsync(BlockNumber);

        Assert.Equal(await anvil.Rpc(anvil.ChainA).BlockNumberAsync(), block);
        Assert.Equal(2, node.Requests("eth_chainId"));
        Assert.Equal(2, node.Requests("eth_blockNumber"));
        Assert.Equal(EndpointState.WrongChain, HealthOf(endpoints, "node#0").State);
    }

    [Fact]
    public async Task Concurrent_first_calls_share_one_chain_id_check()
    {
        await using var node = await CannedHttpServer.NodeAsync(OurChain);
        var endpoints = Endpoints([Client(node, "node#0")]);

        var blocks = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => endpoints.CallAsync(BlockNumber)));

        Assert.All(blocks, b => Assert.Equal(BigInteger.One, b));
        Assert.Equal(1, node.Requests("eth_chainId"));
        Assert.Equal(16, node.Requests("eth_blockNumber"));
    }

    // ---- broadcast --------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_transaction_a_node_takes_is_accepted()
    {
        var sender = await FundedKeyAsync(1);
        var signed = (await TransferAsync(sender)).Sign(sender);
        var endpoints = Endpoints([ClosedPort("dead#0"), Anvil("anvil#1")]);

        var outcome = await endpoints.BroadcastAsync(signed.Raw);

        Assert.Equal(BroadcastOutcome.Accepted, outcome);
        Assert.True((await DevnetFunder.WaitForReceiptAsync(anvil.Rpc(anvil.ChainA), signed.TxHashHex)).Succeeded);
    }

    [Fact]
    public async Task A_transaction_the_node_already_has_is_accepted()
    {
        var rpc = anvil.Rpc(anvil.ChainA);
        var sender = await FundedKeyAsync(2);
        var signed = (await TransferAsync(sender)).Sign(sender);
        var endpoints = Endpoints([Anvil("anvil#0")]);
        await rpc.RequestAsync("evm_setAutomine", [false]);
        try
        {
            var first = await endpoints.BroadcastAsync(signed.Raw);
            var second = await endpoints.BroadcastAsync(signed.Raw);

            Assert.Equal(BroadcastOutcome.Accepted, first);
            Assert.Equal(new BroadcastOutcome(BroadcastVerdict.Accepted, RefusalKind.None, "accepted: already known"), second);
        }
        finally
        {
            await rpc.RequestAsync("evm_setAutomine", [true]);
            await rpc.RequestAsync("evm_mine", []);
        }
    }

    [Fact]
    public async Task A_transaction_from_an_empty_wallet_is_refused_for_insufficient_funds()
    {
        var empty = EthKey.Generate(new Random(201));
        var endpoints = Endpoints([Anvil("anvil#0")]);

        var outcome = await endpoints.BroadcastAsync((await TransferAsync(empty)).Sign(empty).Raw);

        Assert.Equal(new BroadcastOutcome(BroadcastVerdict.Refused, RefusalKind.InsufficientFunds, "refused: insufficient funds for gas"), outcome);
    }

    [Fact]
    public async Task A_transaction_whose_nonce_is_used_is_nonce_too_low()
    {
        var sender = await FundedKeyAsync(4);
        var signed = (await TransferAsync(sender)).Sign(sender);
        var endpoints = Endpoints([Anvil("anvil#0")]);
        Assert.Equal(BroadcastVerdict.Accepted, (await endpoints.BroadcastAsync(signed.Raw)).Verdict);
        await DevnetFunder.WaitForReceiptAsync(anvil.Rpc(anvil.ChainA), signed.TxHashHex);

        var outcome = await endpoints.BroadcastAsync(signed.Raw);

        Assert.Equal(BroadcastVerdict.NonceTooLow, outcome.Verdict);
    }

    [Fact]
    public async Task A_refusal_after_an_attempt_that_timed_out_is_unknown()
    {
        await using var slow = await CannedHttpServer.NodeAsync(OurChain, _ => new CannedReply.Silence());
        var endpoints = Endpoints([Client(slow, "slow#0"), Anvil("anvil#1")], new ChainEndpointSettings { AttemptTimeout = TimeSpan.FromMilliseconds(300) });
        var empty = EthKey.Generate(new Random(202));

        var outcome = await endpoints.BroadcastAsync((await TransferAsync(empty)).Sign(empty).Raw);

        Assert.Equal(1, slow.Requests("eth_sendRawTransaction"));
        Assert.Equal(BroadcastVerdict.Unknown, outcome.Verdict);
        Assert.Equal("unknown: earlier attempt may have delivered it (then refused: insufficient funds for gas)", outcome.Reason);
    }

    [Fact]
    public async Task A_refusal_after_an_attempt_whose_connection_was_refused_is_still_a_refusal()
    {
        var gone = await CannedHttpServer.NodeAsync(OurChain);
        var endpoints = Endpoints([Client(gone, "gone#0"), Anvil("anvil#1")]);
        await endpoints.CallAsync(BlockNumber);
        await gone.DisposeAsync();
        var empty = EthKey.Generate(new Random(203));

        var outcome = await endpoints.BroadcastAsync((await TransferAsync(empty)).Sign(empty).Raw);

        Assert.Equal(RefusalKind.InsufficientFunds, outcome.Refusal);
    }

    [Fact]
    public async Task An_answer_that_proves_nothing_fails_over_and_the_next_node_may_accept()
    {
        await using var broken = await CannedHttpServer.NodeAsync(OurChain, _ => CannedReply.Error(-32603, "internal error"));
        var sender = await FundedKeyAsync(7);
        var signed = (await TransferAsync(sender)).Sign(sender);
        var endpoints = Endpoints([Client(broken, "broken#0"), Anvil("anvil#1")]);

        var outcome = await endpoints.BroadcastAsync(signed.Raw);

        Assert.Equal(1, broken.Requests("eth_sendRawTransaction"));
        Assert.Equal(BroadcastOutcome.Accepted, outcome);
        await DevnetFunder.WaitForReceiptAsync(anvil.Rpc(anvil.ChainA), signed.TxHashHex);
    }

    [Fact]
    public async Task A_broadcast_every_endpoint_timed_out_on_is_unknown()
    {
        await using var slow = await CannedHttpServer.NodeAsync(OurChain, _ => new CannedReply.Silence());
        var endpoints = Endpoints([Client(slow, "slow#0")], new ChainEndpointSettings { AttemptTimeout = TimeSpan.FromMilliseconds(200) });

        var outcome = await endpoints.BroadcastAsync([0x02, 0xc0]);

        Assert.Equal(new BroadcastOutcome(BroadcastVerdict.Unknown, RefusalKind.None, "unknown: timeout"), outcome);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private ChainEndpoints Endpoints(IReadOnlyList<EthRpcClient> clients, ChainEndpointSettings? settings = null) =>
        new(OurChain, clients, settings ?? new ChainEndpointSettings(), _time);

    private EthRpcClient Anvil(string label) => new(anvil.Http, anvil.ChainA.RpcUrl, label: label);

    private EthRpcClient Client(CannedHttpServer server, string label) => new(anvil.Http, server.Url, label: label);

    private EthRpcClient ClosedPort(string label) =>
        new(anvil.Http, new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}"), label: label);

    private static EndpointHealth HealthOf(ChainEndpoints endpoints, string label) => endpoints.Health.Single(h => h.Label == label);

    /// <summary>A fresh wallet with 1 ETH, so tests never race each other for a dev account's nonce.</summary>
    private async Task<EthKey> FundedKeyAsync(int seed)
    {
        var key = EthKey.Generate(new Random(1000 + seed));
        await anvil.Rpc(anvil.ChainA).RequestAsync("anvil_setBalance", [key.Address.ToChecksumString(), "0xde0b6b3a7640000"]);
        return key;
    }

    private async Task<Eip1559Transaction> TransferAsync(EthKey sender)
    {
        var rpc = anvil.Rpc(anvil.ChainA);
        var nonce = await rpc.GetTransactionCountAsync(sender.Address.ToChecksumString(), BlockTag.Pending);
        var baseFee = (await rpc.GetBlockByNumberAsync(BlockTag.Latest))!.BaseFeePerGas!.Value;
        var tip = new BigInteger(1_000_000_000);
        return new Eip1559Transaction(OurChain, nonce, tip, baseFee * 2 + tip, 21_000, EthKey.Generate(new Random(99)).Address, 1, []);
    }
}
