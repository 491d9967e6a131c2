using System.Net;
using GrandPaymaster.Chain.Devnet;
using GrandPaymaster.Node.Api;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Tests;

/// <summary>The public bootstrap token never leaves loopback, and the admin API can listen on addresses of its own.</summary>
public sealed class AdminExposureTests : IAsyncLifetime
{
    private const long ChainId = 31337;
    private readonly HttpClient _chainHttp = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-exposure-" + Guid.NewGuid().ToString("N"));
    private DevnetLauncher _chains = null!;

    public async Task InitializeAsync()
    {
        _chains = await DevnetLauncher.StartAsync([new DevnetChainSpec("devnet-a", ChainId, DevnetChainSpec.FreeLoopbackPort())], _chainHttp);
        await TestContracts.DeployAsync(new GrandPaymaster.Chain.Rpc.EthRpcClient(_chainHttp, _chains.Chains[0].RpcUrl), ChainId);
    }

    public async Task DisposeAsync()
    {
        await _chains.DisposeAsync();
        _chainHttp.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    private List<string> Arguments(string url, params string[] extra)
    {
        var args = TestNode.Arguments(_dataDirectory, url, TestNode.ChainsOf(_chains));
        args.Add("--Logging:LogLevel:Default=Warning");
        args.AddRange(extra);
        return args;
    }

    [Theory]
    [InlineData("http://0.0.0.0:0", "", "the node listens on http://0.0.0.0:0")]
    [InlineData("http://*:0", "", "the node listens on http://*:0")]
    [InlineData("http://127.0.0.1:0", "http://10.20.30.40:5090", "the node listens on http://10.20.30.40:5090")]
    [InlineData("http://127.0.0.1:0", "--Gpm:Node:Hostname=10.20.30.40", "cluster remoting is bound to 10.20.30.40")]
    public void The_public_bootstrap_token_is_refused_beyond_loopback(string urls, string adminUrlsOrArg, string why)
    {
        var extra = new List<string> { $"--Gpm:Admin:BootstrapToken={AdminOptions.DevBootstrapToken}" };
        if (adminUrlsOrArg.StartsWith("--", StringComparison.Ordinal)) extra.Add(adminUrlsOrArg);
        else if (adminUrlsOrArg.Length > 0) extra.Add($"--Gpm:Admin:Urls={adminUrlsOrArg}");

        var refused = Assert.Throws<InvalidOperationException>(() => NodeApp.Build(Arguments(urls, [.. extra]).ToArray()));

        Assert.Contains(why, refused.Message);
        Assert.Contains("Set your own bootstrap token", refused.Message);
    }

    [Fact]
    public void The_public_bootstrap_token_is_refused_when_a_chain_endpoint_is_not_on_this_machine()
    {
        var args = Arguments("http://127.0.0.1:0", $"--Gpm:Admin:BootstrapToken={AdminOptions.DevBootstrapToken}", "--Gpm:Wallets:DevSeed=a-private-seed-for-this-test",
            "--Gpm:Chains:0:RpcUrls:1=https://rpc.example.org/v1/secret-provider-key");

        var refused = Assert.Throws<InvalidOperationException>(() => NodeApp.Build(args.ToArray()));

        Assert.Contains("an RPC endpoint of chain devnet-a is not on this machine", refused.Message);
        Assert.DoesNotContain("secret-provider-key", refused.Message);
    }

    [Fact]
    public async Task A_replaced_bootstrap_token_lets_the_node_listen_beyond_loopback_and_a_weak_one_is_refused()
    {
        Assert.Contains("at least 24 characters",
            Assert.Throws<InvalidOperationException>(() => NodeApp.Build(Arguments("http://0.0.0.0:0", "--Gpm:Admin:BootstrapToken=short").ToArray())).Message);

        await using var app = NodeApp.Build(Arguments("http://0.0.0.0:0", "--Gpm:Admin:BootstrapToken=a-bootstrap-token-of-our-own-0123").ToArray());
        Assert.NotNull(app);
    }

    [Fact]
    public void The_node_process_exits_at_start_with_the_public_bootstrap_token_on_a_public_address()
    {
        using var node = NodeProcess.Start(_dataDirectory, DevnetChainSpec.FreeLoopbackPort(), TestNode.ChainsOf(_chains),
            $"--Gpm:Admin:BootstrapToken={AdminOptions.DevBootstrapToken}", $"--urls=http://0.0.0.0:{DevnetChainSpec.FreeLoopbackPort()}");

        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(60)), "the node kept running");
        Assert.NotEqual(0, node.ExitCode);
        Assert.Contains(node.Output.Concat(node.Errors), line => line.Contains("public devnet default", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_admin_urls_the_admin_api_is_served_only_there_and_the_dapp_api_only_on_its_own()
    {
        var dappPort = DevnetChainSpec.FreeLoopbackPort();
        var adminPort = DevnetChainSpec.FreeLoopbackPort();
        await using var app = NodeApp.Build(Arguments($"http://127.0.0.1:{dappPort}", $"--Gpm:Admin:BootstrapToken={PaymasterClient.BootstrapToken}",
            $"--Gpm:Admin:Urls=http://127.0.0.1:{adminPort}").ToArray());
        await app.StartAsync();
        using var dapps = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dappPort}") };
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        for (var deadline = DateTime.UtcNow.AddSeconds(60); (await admin.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline;)
            await Task.Delay(200);

        using (var onDappAddress = await dapps.PostAsync("/admin/v1/operators", null))
            Assert.Equal(HttpStatusCode.NotFound, onDappAddress.StatusCode);
        var token = await PaymasterClient.FirstAdminAsync(admin, _dataDirectory);
        using (var me = await new PaymasterClient(admin, token).SendAsync(HttpMethod.Get, "/admin/v1/operators/me", null, bearer: token))
            Assert.Equal("tester", (await PaymasterClient.ExpectAsync(me, HttpStatusCode.OK)).GetProperty("id").GetString());
        // A forged Host header does not move a request to the other listener.
        using (var forged = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/operators/me"))
        {
            forged.Headers.Host = $"127.0.0.1:{adminPort}";
            forged.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var answer = await dapps.SendAsync(forged);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        }

        using (var dappRoute = await admin.GetAsync("/v1/balances")) Assert.Equal(HttpStatusCode.NotFound, dappRoute.StatusCode);
        using (var dappRoute = await dapps.GetAsync("/v1/balances")) Assert.Equal(HttpStatusCode.Unauthorized, dappRoute.StatusCode);
        using (var live = await admin.GetAsync("/health/live")) Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (var live = await dapps.GetAsync("/health/live")) Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_flood_of_unknown_tokens_spends_the_ip_budget_without_asking_the_registry_and_a_known_operator_is_still_served()
    {
        var port = DevnetChainSpec.FreeLoopbackPort();
        await using var app = NodeApp.Build(Arguments($"http://127.0.0.1:{port}", $"--Gpm:Admin:BootstrapToken={PaymasterClient.BootstrapToken}",
            "--Gpm:Policy:Hocon=gpm.policy.unauthenticated { per-second = 0.2, burst = 4 }").ToArray());
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var admin = new PaymasterClient(http, await PaymasterClient.FirstAdminAsync(http, _dataDirectory));
        using (var me = await admin.SendAsync(HttpMethod.Get, "/admin/v1/operators/me", null, bearer: admin.OperatorToken))
            await PaymasterClient.ExpectAsync(me, HttpStatusCode.OK);

        var answers = new List<(HttpStatusCode, string)>();
        for (var i = 0; i < 8; i++)
        {
            using var guess = await admin.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: "gpmo_guess" + i);
            var code = System.Text.Json.JsonDocument.Parse(await guess.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString()!;
            answers.Add((guess.StatusCode, code));
        }

        // Two of the four tokens went to the bootstrap and the admin's first request; then two guesses are asked, the rest refused unasked.
        Assert.Equal([(HttpStatusCode.Unauthorized, "unauthorized"), (HttpStatusCode.Unauthorized, "unauthorized")], answers.Take(2));
        Assert.All(answers.Skip(2), a => Assert.Equal((HttpStatusCode.TooManyRequests, "throttled"), a));
        // The admin's token is remembered by this node: the flood does not lock the operator out.
        using (var pools = await admin.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: admin.OperatorToken))
            await PaymasterClient.ExpectAsync(pools, HttpStatusCode.OK);
        await app.StopAsync();
    }
}
