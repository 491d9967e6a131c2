using System.Net;
using System.Text.Json;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Node.Alerts;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Node.Tests;

/// <summary>The dApp-frozen source on the shared node, and the SSE hub's bounds (streams, per-subscriber buffer).</summary>
[Collection(NodeCollection.Name)]
public sealed class AlertSourceTests(NodeFixture fixture)
{
    /// <summary>The one place this class takes its admin token from.</summary>

    [Fact]
    public async Task Freezing_a_dapp_raises_a_dapp_frozen_alert_and_unfreezing_resolves_it()
    {
        var client = fixture.Client;
        var (dappId, _) = await client.RegisterDappAsync("Frosty");
        using (var frozen = await client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/freeze", new { reason = "chargeback storm" }, bearer: client.OperatorToken))
            await PaymasterClient.ExpectAsync(frozen, HttpStatusCode.OK);

        var alert = await AlertAsync(client, dappId, "open");
        Assert.Equal("dapp_frozen", alert.GetProperty("kind").GetString());
        Assert.Equal("info", alert.GetProperty("severity").GetString()); // an operator's own freeze; a fraud rule's is a warning
        Assert.Contains("operator:tester", alert.GetProperty("summary").GetString());

        using (var unfrozen = await client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dappId}/unfreeze", new { reason = "settled with the dApp" }, bearer: client.OperatorToken))
            await PaymasterClient.ExpectAsync(unfrozen, HttpStatusCode.OK);
        var resolved = await AlertAsync(client, dappId, "resolved");
        Assert.Equal(alert.GetProperty("id").GetString(), resolved.GetProperty("id").GetString());
        Assert.Equal("operator:tester", resolved.GetProperty("resolvedBy").GetString());
    }

    [Fact]
    public async Task A_bad_acknowledge_is_refused_with_a_code_before_any_lookup()
    {
        var client = fixture.Client;
        using (var unknownField = await client.SendAsync(HttpMethod.Post, "/admin/v1/alerts/alert-1/ack", new { reason = "ok", severity = "info" }, bearer: client.OperatorToken))
            Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(unknownField, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        using (var longReason = await client.SendAsync(HttpMethod.Post, "/admin/v1/alerts/alert-1/ack", new { reason = new string('r', 300) }, bearer: client.OperatorToken))
            Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(longReason, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        using (var badId = await client.SendAsync(HttpMethod.Post, "/admin/v1/alerts/DROP%20TABLE/ack", null, bearer: client.OperatorToken))
            Assert.Equal("alert_not_found", (await PaymasterClient.ExpectAsync(badId, HttpStatusCode.NotFound)).GetProperty("code").GetString());
    }

    [Fact]
    public void The_hub_refuses_streams_beyond_its_bound_and_drops_a_subscriber_that_falls_a_buffer_behind()
    {
        var hub = new AlertStreamHub(new StreamSettings(MaxStreams: 2, Buffer: 3, KeepAlive: TimeSpan.FromSeconds(15)), maxUnresolved: 10);
        using var slow = hub.TrySubscribe()!;
        using var fast = hub.TrySubscribe()!;
        Assert.Null(hub.TrySubscribe());

        var alert = new Alert("alert-1", AlertKinds.SafeMode, AlertSeverity.Critical, "chain 1", "s", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, AlertState.Open);
        for (var i = 0; i < 4; i++)
        {
            hub.Changed(new AlertChanged(alert with { Count = i + 1 }, "repeat"));
            while (fast.Reader.TryRead(out _)) { } // this one keeps up
        }

        Assert.True(slow.Dropped);
        Assert.False(fast.Dropped);
        Assert.Equal(1, hub.Streams);
        using var next = hub.TrySubscribe(); // the dropped one's slot is free again
        Assert.NotNull(next);
        Assert.Equal(1, hub.UnresolvedBySeverity()[AlertSeverity.Critical]);
        hub.Changed(new AlertChanged(alert with { State = AlertState.Resolved }, "resolve"));
        Assert.Equal(0, hub.UnresolvedBySeverity()[AlertSeverity.Critical]);
    }

    private static async Task<JsonElement> AlertAsync(PaymasterClient client, string dappId, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var response = await client.SendAsync(HttpMethod.Get, $"/admin/v1/alerts?state={state}", null, bearer: client.OperatorToken);
            var alerts = (await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK)).GetProperty("alerts").EnumerateArray();
            if (alerts.FirstOrDefault(a => a.GetProperty("subject").GetString() == dappId) is { ValueKind: JsonValueKind.Object } found) return found;
            Assert.True(DateTime.UtcNow < deadline, $"no {state} alert for {dappId}");
            await Task.Delay(100);
        }
    }
}
