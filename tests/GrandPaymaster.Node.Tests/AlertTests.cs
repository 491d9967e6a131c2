using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// Alerts on a real node and a real anvil (issue 10, point 6): a gas spike puts the pool into SAFE_MODE; the critical alert is in
/// the list and arrives over SSE without polling; an operator acknowledges it (journaled); a loopback PagerDuty receiver gets
/// exactly one trigger and, once the pool is calm again, exactly one resolve with the same dedup key.
/// </summary>
public sealed class AlertTests : SingleChain
{
    /// <summary>The one place this class takes its admin token from.</summary>

    [Fact]
    public async Task Safe_mode_raises_a_critical_alert_listed_streamed_acknowledged_and_paged_once_with_one_resolve()
    {
        await using var pager = await PagerReceiver.StartAsync();
        await using var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)],
            "--Gpm:Market:Hocon=gpm.market.gas.volatility-window = 5\ngpm.market.safe-mode.calm-period = 4s",
            "--Gpm:Alerts:Hocon=gpm.alerts.watch.clear-after = 1s\ngpm.alerts.stream.keep-alive = 1s",
            $"--Gpm:Alerts:Paging:Url={pager.Url}", "--Gpm:Alerts:Paging:RoutingKey=test-routing-key");
        Assert.Equal(HttpStatusCode.OK, (await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60))).StatusCode);
        var client = node.Client;

        // Bad input first: refused with a code, nothing changes.
        using (var bad = await client.SendAsync(HttpMethod.Get, "/admin/v1/alerts?state=sleeping", null, bearer: client.OperatorToken))
            Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(bad, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        using (var unknown = await client.SendAsync(HttpMethod.Post, "/admin/v1/alerts/alert-999/ack", new { reason = "?" }, bearer: client.OperatorToken))
            Assert.Equal("alert_not_found", (await PaymasterClient.ExpectAsync(unknown, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        using (var noRole = await client.SendAsync(HttpMethod.Get, "/admin/v1/alerts/stream", null))
            Assert.Equal(HttpStatusCode.Unauthorized, noRole.StatusCode);

        // A steady 10 gwei first (getting there from anvil's 1 gwei may itself be a spike: wait until that has come and gone).
        await SetBaseFeeAsync(10_000_000_000);
        await PoolModeAsync(client, "normal", TimeSpan.FromSeconds(40), requireMedianAtLeast: 8_000_000_000);
        await UntilAsync(async () => (await ListAsync(client, "all")).All(a => a.GetProperty("state").GetString() == "resolved")
                                     && pager.Triggers == pager.Resolves, TimeSpan.FromSeconds(20), "earlier alerts to resolve");
        var (triggersBefore, resolvesBefore) = (pager.Triggers, pager.Resolves);

        await using var stream = await AlertStream.OpenAsync(node.Http, node.AdminToken);
        await stream.CommentAsync(TimeSpan.FromSeconds(5)); // the opening comment, then a keep-alive every second
        Assert.Equal("keep-alive", await stream.CommentAsync(TimeSpan.FromSeconds(5)));

        await SetBaseFeeAsync(50_000_000_000);
        var raised = await stream.NextAsync(a => a.GetProperty("kind").GetString() == "safe_mode_entered" && a.GetProperty("change").GetString() == "raise",
            TimeSpan.FromSeconds(15));
        Assert.Equal("critical", raised.GetProperty("severity").GetString());
        Assert.Equal("chain 31337", raised.GetProperty("subject").GetString());
        var id = raised.GetProperty("id").GetString()!;

        var listed = (await ListAsync(client, "open")).Single(a => a.GetProperty("id").GetString() == id);
        Assert.Equal("open", listed.GetProperty("state").GetString());
        Assert.Contains("SAFE_MODE", listed.GetProperty("summary").GetString());

        // One trigger reaches the receiver, with the Events API v2 fields.
        await UntilAsync(() => Task.FromResult(pager.Triggers == triggersBefore + 1), TimeSpan.FromSeconds(15), "the trigger");
        var trigger = pager.Bodies.Last(b => b.GetProperty("event_action").GetString() == "trigger");
        Assert.Equal("test-routing-key", trigger.GetProperty("routing_key").GetString());
        Assert.Equal("safe_mode_entered:chain 31337", trigger.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", trigger.GetProperty("payload").GetProperty("severity").GetString());
        Assert.Equal(id, trigger.GetProperty("payload").GetProperty("custom_details").GetProperty("alertId").GetString());

        // An operator acknowledges it: the answer, the stream and the journal say who and why.
        using (var ack = await client.SendAsync(HttpMethod.Post, $"/admin/v1/alerts/{id}/ack", new { reason = "looking at the gas market" }, bearer: client.OperatorToken))
        {
            var acked = await PaymasterClient.ExpectAsync(ack, HttpStatusCode.OK);
            Assert.Equal("acknowledged", acked.GetProperty("state").GetString());
            Assert.Equal("operator:tester", acked.GetProperty("acknowledgedBy").GetString());
        }

        await stream.NextAsync(a => a.GetProperty("id").GetString() == id && a.GetProperty("change").GetString() == "ack", TimeSpan.FromSeconds(10));
        Assert.Equal(1, node.Journal.RowsMentioning("alerts.evt.acknowledged", "operator:tester", "looking at the gas market"));
        using (var again = await client.SendAsync(HttpMethod.Post, $"/admin/v1/alerts/{id}/ack", null, bearer: client.OperatorToken))
            await PaymasterClient.ExpectAsync(again, HttpStatusCode.OK); // again: nothing more to journal
        Assert.Equal(1, node.Journal.Rows("alerts", "alerts.evt.acknowledged"));

        // Calm again: the pool leaves SAFE_MODE, the alert resolves (streamed) and one resolve is paged.
        var resolved = await stream.NextAsync(a => a.GetProperty("id").GetString() == id && a.GetProperty("change").GetString() == "resolve",
            TimeSpan.FromSeconds(60));
        Assert.Equal("resolved", resolved.GetProperty("state").GetString());
        await UntilAsync(() => Task.FromResult(pager.Resolves == resolvesBefore + 1), TimeSpan.FromSeconds(15), "the resolve");
        Assert.Equal("safe_mode_entered:chain 31337", pager.Bodies.Last().GetProperty("dedup_key").GetString());
        await Task.Delay(TimeSpan.FromSeconds(2)); // no late duplicate
        Assert.Equal(triggersBefore + 1, pager.Triggers);
        Assert.Equal(resolvesBefore + 1, pager.Resolves);
        Assert.Equal(2, node.Journal.RowsMentioning("alerts.evt.paged", id));
    }

    private async Task SetBaseFeeAsync(long wei)
    {
        await Rpc.RequestAsync("anvil_setNextBlockBaseFeePerGas", ["0x" + wei.ToString("x")]);
        await Rpc.RequestAsync("evm_mine", []);
    }

    private static async Task<List<JsonElement>> ListAsync(PaymasterClient client, string state)
    {
        using var response = await client.SendAsync(HttpMethod.Get, $"/admin/v1/alerts?state={state}", null, bearer: client.OperatorToken);
        return (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("alerts").EnumerateArray().ToList();
    }

    private static async Task PoolModeAsync(PaymasterClient client, string mode, TimeSpan within, long requireMedianAtLeast)
    {
        await UntilAsync(async () =>
        {
            using var market = await client.SendAsync(HttpMethod.Get, "/admin/v1/market/31337", null, bearer: client.OperatorToken);
            var median = (await PaymasterClient.ExpectAsync(market, HttpStatusCode.OK)).GetProperty("medianWeiPerGas").GetString();
            using var pools = await client.SendAsync(HttpMethod.Get, "/admin/v1/pools", null, bearer: client.OperatorToken);
            var pool = (await PaymasterClient.ExpectAsync(pools, HttpStatusCode.OK)).EnumerateArray().Single(p => p.GetProperty("chainId").GetInt64() == 31337);
            return median is not null && long.Parse(median) >= requireMedianAtLeast && pool.GetProperty("mode").GetString() == mode;
        }, within, $"the pool in {mode}");
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited in vain for {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>A client of <c>GET /admin/v1/alerts/stream</c>: reads the event stream as it comes (no polling) into a channel.</summary>
    private sealed class AlertStream : IAsyncDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<JsonElement> _alerts = Channel.CreateUnbounded<JsonElement>();
        private readonly Channel<string> _comments = Channel.CreateUnbounded<string>();
        private readonly Task _reading;

        private AlertStream(HttpResponseMessage response)
        {
            _response = response;
            _reading = Task.Run(ReadAsync);
        }

        public static async Task<AlertStream> OpenAsync(HttpClient http, string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/alerts/stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new AlertStream(response);
        }

        public async Task<string> CommentAsync(TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            return await _comments.Reader.ReadAsync(timeout.Token);
        }

        public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan within)
        {
            using var timeout = new CancellationTokenSource(within);
            while (true)
            {
                var alert = await _alerts.Reader.ReadAsync(timeout.Token);
                if (match(alert)) return alert;
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
                string? eventName = null;
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line.StartsWith(':')) _comments.Writer.TryWrite(line[1..].Trim());
                    else if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line["event: ".Length..];
                    else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventName == "alert")
                        _alerts.Writer.TryWrite(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                    else if (line.Length == 0) eventName = null;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _response.Dispose();
            await _reading;
            _stop.Dispose();
        }
    }
}
