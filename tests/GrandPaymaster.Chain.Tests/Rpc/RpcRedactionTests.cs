using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Chain.Rpc;

namespace GrandPaymaster.Chain.Tests.Rpc;

public sealed class RpcRedactionTests : IDisposable
{
    private const string Secret = "SECRETKEY123";
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    [Fact]
    public void Urls_in_a_text_are_replaced_whatever_their_scheme()
    {
        var redacted = RpcRedaction.Redact($"failed: https://mainnet.example/v3/{Secret}?key={Secret} and wss://u:p@host/{Secret}");

        Assert.Equal("failed: [url] and [url]", redacted);
    }

    [Fact]
    public void A_redacted_text_is_capped_and_has_no_line_breaks()
    {
        var redacted = RpcRedaction.Redact(new string('x', 500) + "\r\nforged log line");

        Assert.Equal(RpcRedaction.MaxLength + 1, redacted.Length);
        Assert.EndsWith("…", redacted);
        Assert.Equal("a b", RpcRedaction.Redact("a\nb"));
    }

    [Fact]
    public void The_default_label_keeps_only_scheme_host_and_port()
    {
        var label = RpcRedaction.DefaultLabel(new Uri($"https://user:{Secret}@rpc.example:8443/v3/{Secret}?apikey={Secret}"));

        Assert.Equal("https://rpc.example:8443", label);
    }

    [Fact]
    public void A_client_without_a_label_is_named_by_scheme_host_and_port()
    {
        var client = new EthRpcClient(_http, new Uri($"http://127.0.0.1:8545/v3/{Secret}"));

        Assert.Equal("http://127.0.0.1:8545", client.Label);
    }

    [Fact]
    public async Task A_transport_failure_names_the_label_and_never_the_url()
    {
        var client = SecretClient(new Uri($"http://127.0.0.1:{DevnetChainSpec.FreeLoopbackPort()}"));

        var error = await Assert.ThrowsAsync<RpcTransportException>(() => client.ChainIdAsync());

        AssertRedacted(error);
    }

    [Fact]
    public async Task A_timeout_names_the_label_and_never_the_url()
    {
        await using var server = await CannedHttpServer.StartAsync(_ => new CannedReply.Silence());
        var client = SecretClient(server.Url, TimeSpan.FromMilliseconds(200));

        var error = await Assert.ThrowsAsync<RpcTimeoutException>(() => client.ChainIdAsync());

        AssertRedacted(error);
    }

    [Theory]
    [InlineData("not json, see http://127.0.0.1/v3/SECRETKEY123")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"https://x/SECRETKEY123\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"https://x/SECRETKEY123\"}}")]
    public async Task A_malformed_answer_names_the_label_and_never_a_url(string body)
    {
        await using var server = await CannedHttpServer.StartAsync(body);
        var client = SecretClient(server.Url);

        var error = await Assert.ThrowsAsync<RpcMalformedResponseException>(() => client.ChainIdAsync());

        AssertRedacted(error);
    }

    [Fact]
    public async Task A_server_error_names_the_label_and_its_status()
    {
        await using var server = await CannedHttpServer.StartAsync(_ => new CannedReply.Status(503));
        var client = SecretClient(server.Url);

        var error = await Assert.ThrowsAsync<RpcTransportException>(() => client.ChainIdAsync());

        AssertRedacted(error);
        Assert.Equal(503, error.StatusCode);
    }

    [Fact]
    public async Task An_rpc_error_keeps_the_raw_text_for_classification_but_its_message_is_redacted()
    {
        var raw = $"upstream https://mainnet.example/v3/{Secret} refused";
        await using var server = await CannedHttpServer.StartAsync(_ => CannedReply.Error(-32000, raw));
        var client = SecretClient(server.Url);

        var error = await Assert.ThrowsAsync<RpcErrorException>(() => client.ChainIdAsync());

        AssertRedacted(error);
        Assert.Contains("upstream [url] refused", error.Message);
        Assert.Equal(raw, error.RpcMessage);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A client whose URL carries a key in its user info, path and query, as provider URLs do.</summary>
    private EthRpcClient SecretClient(Uri server, TimeSpan? timeout = null) =>
        new(_http, new Uri($"http://user:{Secret}@{server.Host}:{server.Port}/v3/{Secret}?apikey={Secret}"), timeout, "devnet-a#0");

    private static void AssertRedacted(RpcException error)
    {
        Assert.DoesNotContain(Secret, error.Message);
        Assert.DoesNotContain("/v3/", error.Message);
        Assert.Contains("devnet-a#0", error.Message);
        Assert.Equal("devnet-a#0", error.EndpointLabel);
    }
}
