using System.Collections.Concurrent;
using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Actors.Tests.Alerts;

/// <summary>The alert store on a real SQLite journal: journaled raises, acknowledges and resolves, coarse repeats, and paging that survives a restart without duplicates.</summary>
public sealed class AlertsActorTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempJournal _journal = new();
    private readonly RecordingPager _pager = new();

    private static readonly AlertStoreSettings Settings = new()
    {
        RepeatsJournalEvery = TimeSpan.FromMilliseconds(200),
        Paging = new PagingSettings { Url = new Uri("http://127.0.0.1:1/unused"), RetryEvery = TimeSpan.FromMilliseconds(200) },
    };

    private static Meta MetaOf(string actor = "system:test", string reason = "test") => new(DateTimeOffset.UtcNow, actor, reason, "corr");

    private static RaiseAlert SafeMode => new(AlertKinds.SafeMode, AlertSeverity.Critical, "chain 31337", "SAFE_MODE: gas spike", MetaOf());

    [Fact]
    public async Task A_critical_alert_is_paged_once_per_raise_even_across_a_restart_and_its_resolve_once()
    {
        string id;
        using (var kit = new TestKit(_journal.Config, output: output))
        {
            var store = kit.Sys.ActorOf(AlertsActor.PropsFor(Settings, _pager, TimeProvider.System));
            id = (await store.Ask<Alert>(SafeMode, Wait)).Id;
            await store.Ask<Alert>(SafeMode, Wait); // a repeat: no second page
            await AwaitAsync(() => Rows("alerts.evt.paged") == 1);
            await AwaitAsync(() => Rows("alerts.evt.repeated") == 1); // the repeat's count, at the coarse cadence
            await kit.Sys.Terminate();
        }

        using (var kit = new TestKit(_journal.Config, output: output))
        {
            var store = kit.Sys.ActorOf(AlertsActor.PropsFor(Settings, _pager, TimeProvider.System));
            var repeated = await store.Ask<Alert>(SafeMode, Wait); // the same alert, its count recovered from the journal
            Assert.Equal(id, repeated.Id);
            Assert.Equal(3, repeated.Count);
            await Task.Delay(600); // a few retry rounds: nothing is owed
            Assert.Single(_pager.Sent);

            var resolved = await store.Ask<Alert>(new ResolveAlert(AlertKinds.SafeMode, "chain 31337", MetaOf()), Wait);
            Assert.Equal(AlertState.Resolved, resolved.State);
            await AwaitAsync(() => Rows("alerts.evt.paged") == 2);
            await kit.Sys.Terminate();
        }

        using (var kit = new TestKit(_journal.Config, output: output))
        {
            var store = kit.Sys.ActorOf(AlertsActor.PropsFor(Settings, _pager, TimeProvider.System));
            var list = await store.Ask<AlertList>(new GetAlerts(null), Wait);
            Assert.Equal(AlertState.Resolved, list.Alerts.Single().State);
            await Task.Delay(600);
        }

        Assert.Equal([PageActions.Trigger, PageActions.Resolve], _pager.Sent.Select(p => p.Action));
        Assert.All(_pager.Sent, p => Assert.Equal("safe_mode_entered:chain 31337", p.DedupKey));
        Assert.Contains("SAFE_MODE", _pager.Sent.First().Summary);
    }

    [Fact]
    public async Task A_page_the_pager_did_not_take_is_tried_again_and_journaled_once_delivered()
    {
        _pager.FailNext = 2;
        using var kit = new TestKit(_journal.Config, output: output);
        var store = kit.Sys.ActorOf(AlertsActor.PropsFor(Settings, _pager, TimeProvider.System));
        await store.Ask<Alert>(SafeMode, Wait);

        await AwaitAsync(() => Rows("alerts.evt.paged") == 1);
        Assert.Equal(3, _pager.Attempts);
        Assert.Single(_pager.Sent);
    }

    [Fact]
    public async Task An_acknowledge_is_journaled_with_the_operator_and_repeats_are_journaled_at_the_coarse_cadence()
    {
        using var kit = new TestKit(_journal.Config, output: output);
        var store = kit.Sys.ActorOf(AlertsActor.PropsFor(Settings with { Paging = new PagingSettings() }, _pager, TimeProvider.System));
        var raise = new RaiseAlert(AlertKinds.RpcEndpointDown, AlertSeverity.Warning, "devnet-a#0", "down", MetaOf());
        var alert = await store.Ask<Alert>(raise, Wait);
        for (var i = 0; i < 10; i++) await store.Ask<Alert>(raise, Wait);

        // Ten repeats, one (or very few) journal writes.
        await AwaitAsync(() => Rows("alerts.evt.repeated") >= 1);
        Assert.True(Rows("alerts.evt.repeated") <= 2, $"{Rows("alerts.evt.repeated")} repeat rows");

        var acked = await store.Ask<Alert>(new AcknowledgeAlert(alert.Id, MetaOf("operator:alice", "on it")), Wait);
        Assert.Equal(AlertState.Acknowledged, acked.State);
        Assert.Equal(11, acked.Count);
        Assert.Equal(1, RowsMentioning("alerts.evt.acknowledged", "operator:alice", "on it"));
        Assert.Empty(_pager.Sent); // warnings are not paged (and paging is off here)

        var refused = await store.Ask<NoAlert>(new AcknowledgeAlert("alert-404", MetaOf("operator:alice")), Wait);
        Assert.Equal(AlertsState.NotFound, refused.Code);
    }

    private long Rows(string manifest) => Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = 'alerts' AND manifest = $m", ("$m", manifest));

    private long RowsMentioning(string manifest, string a, string b) =>
        Scalar("SELECT COUNT(*) FROM journal WHERE manifest = $m AND instr(CAST(message AS TEXT), $a) > 0 AND instr(CAST(message AS TEXT), $b) > 0",
            ("$m", manifest), ("$a", a), ("$b", b));

    private long Scalar(string sql, params (string, object)[] parameters)
    {
        using var connection = new SqliteConnection(GrandPaymaster.Actors.Persistence.PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, "journal.db"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (long)command.ExecuteScalar()!;
    }

    private static async Task AwaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(50);
        }
    }

    public void Dispose() => _journal.Dispose();

    private sealed class RecordingPager : IPager
    {
        private int _attempts;
        public ConcurrentQueue<PageEvent> Sent { get; } = new();
        public int FailNext { get; set; }
        public int Attempts => Volatile.Read(ref _attempts);
        public bool Enabled => true;

        public Task<PageResult> SendAsync(PageEvent page, CancellationToken ct = default)
        {
            Interlocked.Increment(ref _attempts);
            if (FailNext > 0)
            {
                FailNext--;
                return Task.FromResult(new PageResult(false, false, 1, "HTTP 503"));
            }

            Sent.Enqueue(page);
            return Task.FromResult(new PageResult(true, false, 1, "HTTP 202"));
        }
    }
}

/// <summary>The PagerDuty client's retries and the Events API v2 bodies it sends.</summary>
public sealed class PagerDutyClientTests
{
    private static readonly PagingSettings Settings = new()
    {
        Url = new Uri("http://pager.test/v2/enqueue"),
        RoutingKey = "routing-key-1",
        MaxAttempts = 4,
        FirstBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(40),
    };

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_until_accepted()
    {
        var handler = new Scripted(HttpStatusCode.ServiceUnavailable, HttpStatusCode.TooManyRequests, HttpStatusCode.Accepted);
        var result = await new PagerDutyClient(new HttpClient(handler), Settings).SendAsync(
            new PageEvent("trigger", "safe_mode_entered:chain 1", "SAFE_MODE", "critical", new Dictionary<string, string> { ["count"] = "1" }));

        Assert.True(result.Delivered);
        Assert.Equal(3, result.Attempts);
        var body = System.Text.Json.JsonDocument.Parse(handler.Bodies[0]).RootElement;
        Assert.Equal("routing-key-1", body.GetProperty("routing_key").GetString());
        Assert.Equal("trigger", body.GetProperty("event_action").GetString());
        Assert.Equal("safe_mode_entered:chain 1", body.GetProperty("dedup_key").GetString());
        Assert.Equal("critical", body.GetProperty("payload").GetProperty("severity").GetString());
        Assert.Equal("grand-paymaster", body.GetProperty("payload").GetProperty("source").GetString());
        Assert.Equal("1", body.GetProperty("payload").GetProperty("custom_details").GetProperty("count").GetString());
    }

    [Fact]
    public async Task A_client_error_is_not_retried_and_attempts_are_bounded()
    {
        var refused = await new PagerDutyClient(new HttpClient(new Scripted(HttpStatusCode.BadRequest)), Settings).SendAsync(new PageEvent("resolve", "k"));
        Assert.False(refused.Delivered);
        Assert.True(refused.Permanent);
        Assert.Equal(1, refused.Attempts);

        var down = new Scripted(Enumerable.Repeat(HttpStatusCode.BadGateway, 10).ToArray());
        var failed = await new PagerDutyClient(new HttpClient(down), Settings).SendAsync(new PageEvent("resolve", "k"));
        Assert.False(failed.Delivered);
        Assert.False(failed.Permanent);
        Assert.Equal(4, down.Bodies.Count);
        Assert.False(System.Text.Json.JsonDocument.Parse(down.Bodies[0]).RootElement.TryGetProperty("payload", out _)); // a resolve carries only the key
    }

    private sealed class Scripted(params HttpStatusCode[] answers) : HttpMessageHandler
    {
        private int _next;
        public List<string> Bodies { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Bodies.Add(await request.Content!.ReadAsStringAsync(cancellationToken));
            return new HttpResponseMessage(answers[Math.Min(_next++, answers.Length - 1)]);
        }
    }
}
