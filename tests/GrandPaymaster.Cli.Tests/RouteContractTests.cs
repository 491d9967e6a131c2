using System.Net;
using System.Text.Json;

namespace GrandPaymaster.Cli.Tests;

/// <summary>
/// Each command sends what the admin route contract (issue 10) says: method, path, query and body. The answers here are
/// empty objects, so this also shows that every command copes with an answer that lacks the fields it shows.
/// </summary>
public sealed class RouteContractTests : IDisposable
{
    private readonly string _policy = Path.Combine(Path.GetTempPath(), $"gpm-policy-{Guid.NewGuid():N}.json");

    public static TheoryData<string, string, string, string?> Routes => new()
    {
        { "cluster show", "GET", "/admin/v1/cluster", null },
        { "cluster leave akka.tcp://gpm@10.0.0.7:4053 -r maintenance", "POST", "/admin/v1/cluster/leave", """{"address":"akka.tcp://gpm@10.0.0.7:4053","reason":"maintenance"}""" },
        { "cluster down akka.tcp://gpm@10.0.0.7:4053 -r gone", "POST", "/admin/v1/cluster/down", """{"address":"akka.tcp://gpm@10.0.0.7:4053","reason":"gone"}""" },
        { "cluster sharding regions", "GET", "/admin/v1/cluster/sharding", null },
        { "cluster sharding stats", "GET", "/admin/v1/cluster/sharding", null },
        { "pool list", "GET", "/admin/v1/pools", null },
        { "pool show 31337", "GET", "/admin/v1/pools/31337", null },
        { "pool pause 31337 --reason incident", "POST", "/admin/v1/pools/31337/pause", """{"reason":"incident"}""" },
        { "pool resume 31337 --reason fixed", "POST", "/admin/v1/pools/31337/resume", """{"reason":"fixed"}""" },
        { "dapp list", "GET", "/admin/v1/dapps", null },
        { "dapp show d-0123456789abcdef", "GET", "/admin/v1/dapps/d-0123456789abcdef", null },
        { "dapp freeze d-0123456789abcdef --reason abuse", "POST", "/admin/v1/dapps/d-0123456789abcdef/freeze", """{"reason":"abuse"}""" },
        { "dapp unfreeze d-0123456789abcdef --reason cleared", "POST", "/admin/v1/dapps/d-0123456789abcdef/unfreeze", """{"reason":"cleared"}""" },
        { "dapp policy d-0123456789abcdef", "GET", "/admin/v1/dapps/d-0123456789abcdef/policy", null },
        { "market show", "GET", "/admin/v1/market", null },
        { "market show 31338", "GET", "/admin/v1/market/31338", null },
        { "treasury show", "GET", "/admin/v1/treasury", null },
        { "timelock list", "GET", "/admin/v1/timelock", null },
        { "timelock list --status scheduled", "GET", "/admin/v1/timelock?status=scheduled", null },
        { "timelock schedule chain.disable --param chainId=31338 --reason sunset", "POST", "/admin/v1/timelock", """{"kind":"chain.disable","params":{"chainId":31338},"reason":"sunset"}""" },
        { "timelock schedule dapp.surcharge -p dappId=d-0123456789abcdef -p surchargeBps=2500 -r renewal", "POST", "/admin/v1/timelock",
            """{"kind":"dapp.surcharge","params":{"dappId":"d-0123456789abcdef","surchargeBps":2500},"reason":"renewal"}""" },
        { "timelock cancel tl-1 --reason mistake", "DELETE", "/admin/v1/timelock/tl-1?reason=mistake", null },
        { "timelock execute tl-1", "POST", "/admin/v1/timelock/tl-1/execute", "{}" },
        { "timelock execute tl-1 --reason due", "POST", "/admin/v1/timelock/tl-1/execute", """{"reason":"due"}""" },
        { "audit tail", "GET", "/admin/v1/audit?limit=20", null },
        { "audit tail --actor operator:alice --entity pool-31337 --type pool.evt.mode-changed --from 2025-01-01T00:00:00Z --to 2025-02-01T00:00:00Z -n 5 --after c-9",
            "GET", "/admin/v1/audit?actor=operator%3Aalice&entity=pool-31337&type=pool.evt.mode-changed&from=2025-01-01T00%3A00%3A00Z&to=2025-02-01T00%3A00%3A00Z&limit=5&after=c-9", null },
        { "audit verify", "GET", "/admin/v1/audit/verify", null },
        { "slo", "GET", "/admin/v1/slo", null },
        { "alerts list", "GET", "/admin/v1/alerts", null },
        { "alerts list --state all", "GET", "/admin/v1/alerts?state=all", null },
        { "alerts ack al-1", "POST", "/admin/v1/alerts/al-1/ack", "{}" },
        { "alerts ack al-1 --reason mine", "POST", "/admin/v1/alerts/al-1/ack", """{"reason":"mine"}""" },
        { "operator list", "GET", "/admin/v1/operators", null },
        { "operator create alice --role operator --reason rota", "POST", "/admin/v1/operators", """{"id":"alice","roles":["operator"],"reason":"rota"}""" },
        { "operator create bob --role viewer --role approver --chain 31337 --chain 31338 --dapp d-0123456789abcdef --expires-in-days 30 --reason audit",
            "POST", "/admin/v1/operators",
            """{"id":"bob","roles":["viewer","approver"],"scope":{"chains":[31337,31338],"dapps":["d-0123456789abcdef"]},"expiresInDays":30,"reason":"audit"}""" },
        { "operator revoke alice --reason left", "DELETE", "/admin/v1/operators/alice?reason=left", null },
        { "vault show", "GET", "/admin/v1/vault", null },
        { "vault proposals", "GET", "/admin/v1/vault/proposals", null },
        { "vault proposals --status open", "GET", "/admin/v1/vault/proposals?status=open", null },
        { "vault propose 31337 0x000000000000000000000000000000000000dEaD 20000000000000000000 --reason cold", "POST", "/admin/v1/vault/proposals",
            """{"chainId":31337,"to":"0x000000000000000000000000000000000000dEaD","amount":"20000000000000000000","reason":"cold"}""" },
        { "vault approve vp-3", "POST", "/admin/v1/vault/proposals/vp-3/approve", "{}" },
        { "vault approve vp-3 --reason checked", "POST", "/admin/v1/vault/proposals/vp-3/approve", """{"reason":"checked"}""" },
        { "vault cancel vp-3 --reason wrong", "DELETE", "/admin/v1/vault/proposals/vp-3?reason=wrong", null },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Each_command_calls_its_contract_route(string command, string method, string pathAndQuery, string? body)
    {
        var node = new StubNode((request, _) => (HttpStatusCode.OK, "application/json",
            request.RequestUri!.AbsolutePath == "/admin/v1/audit/verify" ? """{"ok":true}""" : "{}"));

        var result = await Gpm.RunAsync(command.Split(' '), new Dictionary<string, string> { ["GPM_TOKEN"] = "secret" }, handler: node);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(node.Requests);
        Assert.Equal((method, pathAndQuery, "Bearer secret"), (request.Method.Method, request.PathAndQuery, request.Authorization));
        if (body is null) Assert.Null(request.Body);
        else Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(body).RootElement, JsonDocument.Parse(request.Body!).RootElement), request.Body);
    }

    [Fact]
    public async Task Ids_typed_by_the_operator_cannot_reach_another_route()
    {
        var node = StubNode.Json(HttpStatusCode.OK, "{}");

        await Gpm.RunAsync(["dapp", "show", "../pools"], new Dictionary<string, string> { ["GPM_TOKEN"] = "t" }, handler: node);

        Assert.Equal("/admin/v1/dapps/..%2Fpools", node.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task Dapp_policy_set_sends_the_file_with_the_reason_added()
    {
        await File.WriteAllTextAsync(_policy, """{"surchargeBps": 2500, "allowedChains": [31337], "limits": {"USDT": {"daily": "1000000"}}}""");
        var node = StubNode.Json(HttpStatusCode.OK, """{"dappId":"d-0123456789abcdef","surchargeBps":2500}""");

        var result = await Gpm.RunAsync(["dapp", "policy", "d-0123456789abcdef", "--set", _policy, "--reason", "ticket 88"],
            new Dictionary<string, string> { ["GPM_TOKEN"] = "t" }, handler: node);

        Assert.Equal(0, result.ExitCode);
        var request = node.Requests.Single();
        Assert.Equal(("PUT", "/admin/v1/dapps/d-0123456789abcdef/policy"), (request.Method.Method, request.PathAndQuery));
        Assert.True(JsonElement.DeepEquals(
            JsonDocument.Parse("""{"surchargeBps": 2500, "allowedChains": [31337], "limits": {"USDT": {"daily": "1000000"}}, "reason": "ticket 88"}""").RootElement,
            JsonDocument.Parse(request.Body!).RootElement), request.Body);
    }

    [Theory]
    [InlineData("text/plain", "")]
    [InlineData("application/problem+json", """{"status":404,"code":"not_found","detail":"GET /admin/v1/pools/31338 is not part of this API."}""")]
    public async Task Pool_show_on_a_node_without_the_single_pool_route_answers_from_the_list(string contentType, string notFound)
    {
        var node = new StubNode((request, _) => request.RequestUri!.AbsolutePath == "/admin/v1/pools"
            ? (HttpStatusCode.OK, "application/json", """[{"chainId":31337,"name":"devnet-a","mode":"normal"},{"chainId":31338,"name":"devnet-b","mode":"paused"}]""")
            : (HttpStatusCode.NotFound, contentType, notFound));
        var token = new Dictionary<string, string> { ["GPM_TOKEN"] = "t" };

        var found = await Gpm.RunAsync(["pool", "show", "31338", "--json"], token, handler: node);
        var unknown = await Gpm.RunAsync(["pool", "show", "5"], token, handler: node);

        Assert.Equal(0, found.ExitCode);
        Assert.Equal("paused", found.Json.GetProperty("mode").GetString());
        Assert.Equal(ExitCodes.Refused, unknown.ExitCode);
        Assert.Contains("error: unknown_chain: Chain 5 is not served by this paymaster.", unknown.Error);
    }

    public void Dispose()
    {
        if (File.Exists(_policy)) File.Delete(_policy);
    }
}
