using System.Net;
using System.Net.Sockets;

namespace GrandPaymaster.Cli.Tests;

/// <summary>gpm's exit codes (0 ok, 1 usage, 2 refused, 3 unreachable or 5xx, 4 tampering) and the errors it prints on standard error.</summary>
public sealed class ExitCodeTests
{
    private static readonly Dictionary<string, string> Token = new() { ["GPM_TOKEN"] = "t" };

    [Theory]
    [InlineData(200, 0)]
    [InlineData(201, 0)]
    [InlineData(400, 2)]
    [InlineData(401, 2)]
    [InlineData(403, 2)]
    [InlineData(404, 2)]
    [InlineData(425, 2)]
    [InlineData(429, 2)]
    [InlineData(500, 3)]
    [InlineData(503, 3)]
    [InlineData(504, 3)]
    public void Http_statuses_map_to_exit_codes(int status, int exit) =>
        Assert.Equal(exit, ExitCodes.ForStatus((HttpStatusCode)status));

    [Fact]
    public async Task A_refusal_prints_the_nodes_code_and_detail_on_stderr_and_exits_2()
    {
        var node = StubNode.Problem(HttpStatusCode.Forbidden, "forbidden", "This route needs the 'operator' role; the token has viewer.");

        var result = await Gpm.RunAsync(["pool", "pause", "31337", "--reason", "incident"], Token, handler: node);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Contains("error: forbidden: This route needs the 'operator' role; the token has viewer. (HTTP 403)", result.Error);
    }

    [Fact]
    public async Task Field_errors_and_extension_members_of_a_problem_are_printed_under_it()
    {
        var node = new StubNode((_, _) => (HttpStatusCode.BadRequest, "application/problem+json",
            """{"type":"x","title":"Invalid request","status":400,"detail":"The request is not valid; see errors.","code":"invalid_request","errors":{"reason":["query parameter is required"]}}"""));
        var early = new StubNode((_, _) => ((HttpStatusCode)425, "application/problem+json",
            """{"status":425,"detail":"Change tl-1 can be executed after its eta.","code":"timelock_not_ready","eta":"2030-01-01T00:00:00Z"}"""));

        var invalid = await Gpm.RunAsync(["operator", "revoke", "alice", "--reason", "x"], Token, handler: node);
        var notReady = await Gpm.RunAsync(["timelock", "execute", "tl-1"], Token, handler: early);

        Assert.Equal((2, 2), (invalid.ExitCode, notReady.ExitCode));
        Assert.Contains("error: invalid_request: The request is not valid; see errors. (HTTP 400)\n  reason: query parameter is required", invalid.Error.ReplaceLineEndings("\n"));
        Assert.Contains("error: timelock_not_ready: Change tl-1 can be executed after its eta. (HTTP 425)\n  eta: 2030-01-01T00:00:00Z", notReady.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_node_failure_exits_3_with_the_problem_or_the_status()
    {
        var unavailable = StubNode.Problem(HttpStatusCode.ServiceUnavailable, "pool_unavailable", "The pool did not answer.");
        var crashed = new StubNode((_, _) => (HttpStatusCode.InternalServerError, "text/plain", "boom"));
        var gateway = new StubNode((_, _) => (HttpStatusCode.BadGateway, "text/html", ""));

        var a = await Gpm.RunAsync(["pool", "list"], Token, handler: unavailable);
        var b = await Gpm.RunAsync(["pool", "list"], Token, handler: crashed);
        var c = await Gpm.RunAsync(["pool", "list"], Token, handler: gateway);

        Assert.Equal((3, 3, 3), (a.ExitCode, b.ExitCode, c.ExitCode));
        Assert.Contains("error: pool_unavailable: The pool did not answer. (HTTP 503)", a.Error);
        Assert.Contains("error: http_500: boom (HTTP 500)", b.Error);
        Assert.Contains("error: http_502: Bad Gateway (HTTP 502)", c.Error);
    }

    [Fact]
    public async Task An_answer_that_is_not_json_is_a_node_failure_and_an_empty_one_is_fine()
    {
        var html = new StubNode((_, _) => (HttpStatusCode.OK, "text/html", "<html>proxy login</html>"));
        var empty = new StubNode((_, _) => (HttpStatusCode.NoContent, "application/json", ""));

        var notJson = await Gpm.RunAsync(["pool", "list"], Token, handler: html);
        var nothing = await Gpm.RunAsync(["operator", "revoke", "alice", "--reason", "left", "--json"], Token, handler: empty);

        Assert.Equal(ExitCodes.Unavailable, notJson.ExitCode);
        Assert.Contains("error: bad_answer: The node answered GET /admin/v1/pools with something that is not JSON.", notJson.Error);
        Assert.Equal((0, ""), (nothing.ExitCode, nothing.Out));
    }

    [Fact]
    public async Task A_node_that_is_not_listening_is_unreachable_exit_3()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var result = await Gpm.RunAsync(["pool", "list", "--url", $"http://127.0.0.1:{port}"], Token);

        Assert.Equal(ExitCodes.Unavailable, result.ExitCode);
        Assert.Contains($"error: unreachable: The node at http://127.0.0.1:{port}/ could not be reached", result.Error);
    }

    [Fact]
    public async Task A_route_the_node_does_not_serve_is_named_and_dapp_list_says_what_to_use_instead()
    {
        var bare = new StubNode((request, _) => (request.Method == HttpMethod.Get ? HttpStatusCode.MethodNotAllowed : HttpStatusCode.NotFound, "text/plain", ""));
        // What the node itself answers for a route it does not have (its status-code pages).
        var node = new StubNode((request, _) => request.RequestUri!.AbsolutePath == "/admin/v1/dapps"
            ? (HttpStatusCode.MethodNotAllowed, "application/problem+json", """{"status":405,"code":"method_not_allowed","detail":"GET /admin/v1/dapps is not part of this API."}""")
            : (HttpStatusCode.NotFound, "application/problem+json", """{"status":404,"code":"not_found","detail":"GET /admin/v1/slo is not part of this API."}"""));

        var list = await Gpm.RunAsync(["dapp", "list"], Token, handler: node);
        var slo = await Gpm.RunAsync(["slo"], Token, handler: node);
        var bareSlo = await Gpm.RunAsync(["slo"], Token, handler: bare);

        Assert.Equal((2, 2, 2), (list.ExitCode, slo.ExitCode, bareSlo.ExitCode));
        Assert.Contains("error: method_not_allowed: This node has no dApp list route (GET /admin/v1/dapps). (HTTP 405)", list.Error);
        Assert.Contains("hint: Look a dApp up by id with 'gpm dapp show <dappId>'.", list.Error);
        Assert.Contains("error: not_found: GET /admin/v1/slo is not part of this API. (HTTP 404)", slo.Error);
        Assert.Contains("hint: The node has no route GET /admin/v1/slo; it may be older than this gpm.", slo.Error);
        Assert.Contains("error: route_not_found: The node at http://127.0.0.1:5080/ does not serve GET /admin/v1/slo. (HTTP 405)", bareSlo.Error);
    }

    [Fact]
    public async Task An_unknown_id_is_not_taken_for_a_missing_route()
    {
        var node = StubNode.Problem(HttpStatusCode.NotFound, "not_found", "Change tl-9 does not exist.");

        var result = await Gpm.RunAsync(["timelock", "execute", "tl-9"], Token, handler: node);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("error: not_found: Change tl-9 does not exist. (HTTP 404)", result.Error);
        Assert.DoesNotContain("hint:", result.Error);
    }

    [Fact]
    public async Task Without_a_token_a_401_says_where_a_token_can_come_from()
    {
        var node = StubNode.Problem(HttpStatusCode.Unauthorized, "unauthorized", "Send an operator token as 'Authorization: Bearer <token>'.");

        var result = await Gpm.RunAsync(["market", "show"], handler: node);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Null(node.Requests.Single().Authorization);
        Assert.Contains("hint: No token was given: pass --token, set GPM_TOKEN", result.Error);
    }

    [Theory]
    [InlineData("pool", "explode")]
    [InlineData("pool", "pause")]
    [InlineData("pool", "pause", "not-a-chain", "--reason", "x")]
    [InlineData("timelock", "list", "--status", "someday")]
    [InlineData("operator", "create", "alice", "--reason", "x")]
    [InlineData("operator", "create", "alice", "--role", "superuser", "--reason", "x")]
    [InlineData("audit", "tail", "--limit", "0")]
    [InlineData("pool")]
    public async Task A_wrong_command_line_is_a_usage_error_exit_1_and_nothing_is_sent(params string[] args)
    {
        var node = StubNode.Json(HttpStatusCode.OK, "{}");

        var result = await Gpm.RunAsync(args, Token, handler: node);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.NotEqual("", result.Error);
        Assert.Empty(node.Requests);
    }

    [Theory]
    [InlineData("pool", "pause", "31337")]
    [InlineData("pool", "resume", "31337")]
    [InlineData("dapp", "freeze", "d-0123456789abcdef")]
    [InlineData("dapp", "unfreeze", "d-0123456789abcdef")]
    [InlineData("timelock", "schedule", "chain.disable", "--param", "chainId=1")]
    [InlineData("timelock", "cancel", "tl-1")]
    [InlineData("cluster", "leave", "akka.tcp://gpm@10.0.0.7:4053")]
    [InlineData("cluster", "down", "akka.tcp://gpm@10.0.0.7:4053")]
    [InlineData("operator", "create", "alice", "--role", "viewer")]
    [InlineData("operator", "revoke", "alice")]
    [InlineData("pool", "pause", "31337", "--reason", "   ")]
    public async Task A_change_without_a_reason_is_a_usage_error_when_nobody_can_be_asked(params string[] args)
    {
        var node = StubNode.Json(HttpStatusCode.OK, "{}");

        var result = await Gpm.RunAsync(args, Token, handler: node);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("A reason is required", result.Error);
        Assert.Contains("--reason", result.Error);
        Assert.Empty(node.Requests);
    }

    [Fact]
    public async Task On_a_terminal_a_missing_reason_is_asked_for()
    {
        var node = StubNode.Json(HttpStatusCode.OK, """{"chainId":31337,"mode":"paused","cause":"manual"}""");

        var result = await Gpm.RunAsync(["pool", "pause", "31337"], Token, terminal: true, handler: node, input: "RPC incident\n", interactive: true);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Reason for pausing pool 31337", result.Error);
        Assert.Equal("""{"reason":"RPC incident"}""", node.Requests.Single().Body);
    }

    [Fact]
    public async Task Audit_verify_exits_4_when_it_finds_tampering_and_0_when_the_log_is_intact()
    {
        var tampered = StubNode.Json(HttpStatusCode.OK,
            """{"ok":false,"entities":3,"events":40,"checkpoints":2,"firstBad":{"persistenceId":"pool-31337","sequenceNr":7,"problem":"hash does not match"}}""");
        var intact = StubNode.Json(HttpStatusCode.OK, """{"ok":true,"entities":3,"events":40,"checkpoints":2}""");

        var bad = await Gpm.RunAsync(["audit", "verify"], Token, handler: tampered);
        var badJson = await Gpm.RunAsync(["audit", "verify", "--json"], Token, handler: tampered);
        var good = await Gpm.RunAsync(["audit", "verify"], Token, handler: intact);

        Assert.Equal((4, 4, 0), (bad.ExitCode, badJson.ExitCode, good.ExitCode));
        Assert.Contains("TAMPERED: pool-31337 #7: hash does not match", bad.Out);
        Assert.False(badJson.Json.GetProperty("ok").GetBoolean());
        Assert.Contains("Audit log intact: 40 events in 3 entities, 2 checkpoints verified.", good.Out);
    }
}
