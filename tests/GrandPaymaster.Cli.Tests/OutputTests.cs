using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GrandPaymaster.Cli.Tests;

/// <summary>Tables and colours on a terminal, plain text when redirected, no colours under NO_COLOR, the node's JSON with --json.</summary>
public sealed class OutputTests
{
    private const string Pools = """
        [{"chainId":31337,"name":"devnet-a","mode":"paused","cause":"manual","reason":"RPC incident","since":"2025-01-31T12:00:05.1234567+00:00",
          "confirmationDepth":1,"receiptLookups":{},"transactions":{"inFlight":2,"queued":0},"endpoints":[{"label":"devnet-a#0","state":"healthy"}]},
         {"chainId":31338,"name":"devnet-b","mode":"normal","cause":"none","reason":null,"since":null,
          "confirmationDepth":1,"receiptLookups":{},"transactions":null,"endpoints":[{"label":"devnet-b#0","state":"open"}]}]
        """;

    private static readonly Dictionary<string, string> Terminal = new() { ["GPM_TOKEN"] = "t", ["TERM"] = "xterm-256color", ["COLORTERM"] = "truecolor" };

    private static readonly Regex Colour = new(@"\u001b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m");
    private static readonly char[] Box = ['╭', '│', '─', '╰', '+', '|'];

    [Fact]
    public async Task Redirected_output_is_plain_aligned_text_without_escape_codes_or_borders()
    {
        var result = await Gpm.RunAsync(["pool", "list"], new Dictionary<string, string> { ["GPM_TOKEN"] = "t" }, handler: StubNode.Json(HttpStatusCode.OK, Pools));

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain('\u001b', result.Out);
        Assert.Equal(-1, result.Out.IndexOfAny(Box));
        var lines = result.Out.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\s*chain\s+name\s+mode\s+cause\s+since\s+reason\s+in flight\s+queued\s+endpoints up\s*$", lines[0]);
        Assert.Matches(@"^\s*31337\s+devnet-a\s+paused\s+manual\s+2025-01-31 12:00:05Z\s+RPC incident\s+2\s+0\s+1/1\s*$", lines[1]);
        Assert.Matches(@"^\s*31338\s+devnet-b\s+normal\s+none\s+-\s+-\s+-\s+-\s+0/1\s*$", lines[2]);
        // Columns line up: each value starts where its header does.
        Assert.Equal(lines[0].IndexOf("mode", StringComparison.Ordinal), lines[1].IndexOf("paused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_terminal_gets_a_table_with_borders_and_colours()
    {
        var result = await Gpm.RunAsync(["pool", "list"], Terminal, terminal: true, handler: StubNode.Json(HttpStatusCode.OK, Pools));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains('╭', result.Out);
        Assert.Contains('│', result.Out);
        Assert.Matches(Colour, result.Out);
        Assert.Contains("devnet-a", result.Out);
    }

    [Fact]
    public async Task NO_COLOR_keeps_the_table_and_drops_the_colours()
    {
        var variables = new Dictionary<string, string>(Terminal) { ["NO_COLOR"] = "1" };

        var result = await Gpm.RunAsync(["pool", "list"], variables, terminal: true, handler: StubNode.Json(HttpStatusCode.OK, Pools));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains('╭', result.Out);
        Assert.DoesNotMatch(Colour, result.Out);
    }

    [Fact]
    public async Task Json_prints_the_nodes_answer_and_nothing_else_even_on_a_terminal()
    {
        var result = await Gpm.RunAsync(["pool", "list", "--json"], Terminal, terminal: true, handler: StubNode.Json(HttpStatusCode.OK, Pools));

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain('\u001b', result.Out);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(Pools).RootElement, result.Json));
    }

    [Fact]
    public async Task Alerts_watch_prints_each_server_sent_event_as_it_comes()
    {
        var stream = new StringBuilder()
            .Append(": keep-alive\n\n")
            .Append("event: alert\ndata: {\"id\":\"al-1\",\"kind\":\"rpc_down\",\"severity\":\"critical\",\"subject\":\"chain 31337\",\"summary\":\"all endpoints down\",\"state\":\"open\",\"count\":1,\"lastAt\":\"2025-01-31T12:00:00Z\"}\n\n")
            .Append("event: alert\ndata: {\"id\":\"al-1\",\"kind\":\"rpc_down\",\"severity\":\"critical\",\"subject\":\"chain 31337\",\"summary\":\"all endpoints down\",\"state\":\"acknowledged\",\"count\":3,\"lastAt\":\"2025-01-31T12:01:00Z\"}\n\n")
            .ToString();
        StubNode Node() => new((_, _) => (HttpStatusCode.OK, "text/event-stream", stream));
        var token = new Dictionary<string, string> { ["GPM_TOKEN"] = "t" };

        var json = await Gpm.RunAsync(["alerts", "watch", "--json", "--max", "2"], token, handler: Node());
        var text = await Gpm.RunAsync(["alerts", "watch", "--max", "2"], token, handler: Node());
        var closed = await Gpm.RunAsync(["alerts", "watch"], token, handler: Node());

        Assert.Equal((0, 0, ExitCodes.Unavailable), (json.ExitCode, text.ExitCode, closed.ExitCode));
        var lines = json.Out.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["open", "acknowledged"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("state").GetString()));
        Assert.Contains("2025-01-31 12:00:00Z  critical  open          rpc_down  chain 31337: all endpoints down", text.Out);
        Assert.Contains("acknowledged  rpc_down  chain 31337: all endpoints down  (x3)", text.Out);
        Assert.Contains("error: unreachable: The node closed the alert stream.", closed.Error);
    }

    [Fact]
    public async Task The_contract_shapes_of_cluster_slo_timelock_audit_and_operators_render_as_tables()
    {
        var answers = new Dictionary<string, string>
        {
            ["/admin/v1/cluster"] = """{"self":"akka.tcp://gpm@10.0.0.1:4053","leader":"akka.tcp://gpm@10.0.0.2:4053","members":[{"address":"akka.tcp://gpm@10.0.0.1:4053","status":"up","roles":["edge"],"upNumber":2},{"address":"akka.tcp://gpm@10.0.0.2:4053","status":"up","roles":["edge","pools"],"upNumber":1}],"unreachable":[]}""",
            ["/admin/v1/slo"] = """{"slos":[{"name":"availability","objective":0.995,"windows":{"1h":{"sli":0.999,"burnRate":0.2,"budgetRemaining":0.98},"6h":{"sli":0.998,"burnRate":0.4,"budgetRemaining":0.97},"30d":{"sli":0.997,"burnRate":0.6,"budgetRemaining":0.4}},"status":"ok"}]}""",
            ["/admin/v1/timelock"] = """{"changes":[{"id":"tl-1","kind":"chain.disable","params":{"chainId":31338},"reason":"sunset","scheduledBy":"operator:alice","scheduledAt":"2025-01-31T12:00:00Z","eta":"2025-02-01T12:00:00Z","status":"scheduled"}]}""",
            ["/admin/v1/audit?limit=20"] = """{"events":[{"persistenceId":"pool-31337","sequenceNr":4,"type":"pool.evt.mode-changed","at":"2025-01-31T12:00:00Z","actor":"operator:alice","reason":"incident","correlationId":"c1","prevHash":"00","hash":"a1b2c3d4e5f60718293a"}],"next":"cursor-2"}""",
            ["/admin/v1/operators"] = """{"operators":[{"id":"alice","roles":["operator"],"scope":{"chains":[31337],"dapps":null},"createdAt":"2025-01-01T00:00:00Z","createdBy":"operator:root","expiresAt":null,"revokedAt":null,"status":"active"}]}""",
            ["/admin/v1/cluster/sharding"] = """{"regions":[{"typeName":"dapp","shards":[{"shardId":"1","entities":3},{"shardId":"2","entities":2}]}],"stats":{"totalShards":2}}""",
        };
        var node = new StubNode((request, _) => (HttpStatusCode.OK, "application/json", answers[request.RequestUri!.PathAndQuery]));
        var token = new Dictionary<string, string> { ["GPM_TOKEN"] = "t" };

        var cluster = await Gpm.RunAsync(["cluster", "show"], token, handler: node);
        var slo = await Gpm.RunAsync(["slo"], token, handler: node);
        var timelock = await Gpm.RunAsync(["timelock", "list"], token, handler: node);
        var audit = await Gpm.RunAsync(["audit", "tail"], token, handler: node);
        var operators = await Gpm.RunAsync(["operator", "list"], token, handler: node);
        var regions = await Gpm.RunAsync(["cluster", "sharding", "regions"], token, handler: node);
        var stats = await Gpm.RunAsync(["cluster", "sharding", "stats"], token, handler: node);

        Assert.All([cluster, slo, timelock, audit, operators, regions, stats], r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Matches(@"akka\.tcp://gpm@10\.0\.0\.2:4053\s+up\s+edge, pools\s+1\s+leader", cluster.Out);
        Assert.Matches(@"akka\.tcp://gpm@10\.0\.0\.1:4053\s+up\s+edge\s+2\s+self", cluster.Out);
        Assert.Matches(@"availability\s+0\.995\s+ok\s+0\.999\s+0\.2\s+0\.98\s+0\.998\s+0\.4\s+0\.97\s+0\.997\s+0\.6\s+0\.4", slo.Out);
        Assert.Matches(@"tl-1\s+chain\.disable\s+chainId=31338\s+scheduled\s+2025-02-01 12:00:00Z\s+operator:alice\s+sunset", timelock.Out);
        Assert.Matches(@"operator:alice\s+pool-31337\s+4\s+pool\.evt\.mode-changed\s+incident\s+a1b2c3d4e5f6…", audit.Out);
        Assert.Contains("more: gpm audit tail --after cursor-2", audit.Out);
        Assert.Matches(@"alice\s+operator\s+chains 31337\s+active", operators.Out);
        Assert.Matches(@"dapp\s+2\s+5", regions.Out);
        Assert.Matches(@"totalShards\s+2", stats.Out);
    }
}
