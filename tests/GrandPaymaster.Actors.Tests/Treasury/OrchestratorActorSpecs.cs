using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text.Json;
using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Akka.Persistence;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Treasury;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Slo;
using GrandPaymaster.Domain.Treasury;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static GrandPaymaster.Domain.Treasury.OrchestratorProtocol;
using Address = GrandPaymaster.Domain.Common.Address;
using Envelope = Akka.Actor.Envelope;
using VaultFailed = GrandPaymaster.Domain.Treasury.VaultProtocol.TopUpFailed;

namespace GrandPaymaster.Actors.Tests.Treasury;

/// <summary>
/// The Orchestrator on its rebalance mailbox and a real SQLite journal, with a probe standing in for the Vault singleton: the mailbox's
/// order (journal replies first, then Critical, Warning, Normal, FIFO within each), a flood of Normal work that never reorders the
/// actor's own writes, a Critical served before queued Normal work, backoff in the events' timestamps, one PagerDuty trigger and one
/// resolve at a loopback receiver across a restart, and no second request for a need after a crash.
/// </summary>
public sealed class OrchestratorActorSpecs : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly ChainId Chain = new(31337);
    private readonly TempJournal _journal;
    private readonly TestProbe _vault;
    private readonly TestProbe _alerts;
    private readonly ITestOutputHelper _output;

    private static readonly TreasurySettings Settings = new TreasurySettings
    {
        Thresholds = new WalletThresholds(Eth(10), Eth(25), Eth(100), Eth(200), Eth(10)),
        Tick = TimeSpan.FromMilliseconds(50),
        ReplyTimeout = TimeSpan.FromSeconds(30),
        Retry = new RetryPolicy(TimeSpan.FromMilliseconds(300), 2, TimeSpan.FromSeconds(2), 0.2),
        PageAfterFailures = 3,
        MaxWalletsPerChain = 1_000,
    }.Checked();

    public OrchestratorActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private OrchestratorActorSpecs(TempJournal journal, ITestOutputHelper output)
        : base(journal.Config.WithFallback(PersistenceHocon.Load("mailboxes.hocon")), output: output)
    {
        _journal = journal;
        _output = output;
        _vault = CreateTestProbe("vault");
        _alerts = CreateTestProbe("alerts");
    }

    private static Wei Eth(long ether) => new(ether * Wei.PerCoin);

    private static Address WalletNo(int i) => Address.Parse("0x" + i.ToString("x40"));

    private static BalanceObserved Reading(Address wallet, long ether, TreasurySettings? settings = null) =>
        new(Chain, wallet, Eth(ether), DateTimeOffset.UtcNow, (settings ?? Settings).Thresholds.Classify(Eth(ether)) ?? RebalancePriority.Normal);

    [Fact]
    public void The_rebalance_mailbox_serves_everything_it_does_not_know_first_then_critical_warning_normal_each_in_arrival_order()
    {
        var queue = new UnboundedStablePriorityMessageQueue(RebalanceMailbox.PriorityOf, 16);
        object[] sent =
        [
            Reading(WalletNo(1), 50), Reading(WalletNo(2), 5), new SaveSnapshotSuccess(new SnapshotMetadata("orchestrator", 1, DateTime.UtcNow)), Reading(WalletNo(3), 20),
            Reading(WalletNo(4), 50), Reading(WalletNo(5), 5), RecoveryCompleted.Instance, new VaultProtocol.TopUpCompleted("r", "0x1", Eth(1)),
            GetTreasury.Instance, Reading(WalletNo(6), 20),
        ];
        foreach (var message in sent) queue.Enqueue(ActorRefs.Nobody, new Envelope(message, ActorRefs.NoSender));

        var order = new List<object>();
        while (queue.TryDequeue(out var envelope)) order.Add(envelope.Message);

        Assert.Equal([sent[2], sent[6], sent[7], sent[8], sent[1], sent[5], sent[3], sent[9], sent[0], sent[4]], order);
        Assert.Equal(0, RebalanceMailbox.PriorityOf(PoisonPill.Instance));
        Assert.Equal(0, RebalanceMailbox.PriorityOf(new object())); // e.g. Akka.Persistence's internal WriteMessageSuccess
    }

    [Fact]
    public async Task A_flood_of_normal_work_during_writes_never_reorders_the_actors_own_journal_and_a_later_critical_is_served_first()
    {
        const int normals = 300;
        var orchestrator = Start();
        var critical = WalletNo(10_000);

        // Every reading below is one journal write (TopUpQueued); they all arrive while the first writes are in progress.
        for (var i = 0; i < normals; i++) orchestrator.Tell(Reading(WalletNo(i), 50));
        orchestrator.Tell(Reading(critical, 5));

        var first = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        await AwaitAssertAsync(async () =>
        {
            var view = await orchestrator.Ask<TreasuryView>(GetTreasury.Instance, Wait);
            Assert.Equal(normals + 1, view.Queue.Count + view.InFlight.Count);
        }, Wait);

        // The journal holds what the handlers applied, in the order the actor wrote it: contiguous, and each write's handler ran in turn.
        var events = JournalEvents();
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        var queued = events.Select(e => e.Event).OfType<TopUpQueued>().ToList();
        Assert.Equal(normals + 1, queued.Count);
        var criticalAt = queued.FindIndex(q => q.Wallet == critical);
        _output.WriteLine($"the Critical reading was journaled {criticalAt + 1}th of {queued.Count} (sent last)");
        Assert.True(criticalAt < normals / 10, $"the Critical was queued {criticalAt + 1}th of {queued.Count}: the mailbox did not put it ahead");
        // Normal work stays in arrival order.
        var normalOrder = queued.Where(q => q.Wallet != critical).Select(q => q.Wallet).ToList();
        Assert.Equal(Enumerable.Range(0, normals).Select(WalletNo), normalOrder);

        // One top-up in flight for the chain; each next one starts when the previous completes. The Critical is served first — or
        // second, if a Normal had already started when it arrived — and the Normals follow in arrival order.
        _vault.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        orchestrator.Tell(new VaultProtocol.TopUpCompleted(first.RequestId, "0xaaa", first.Amount), _vault.Ref);
        var second = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        _vault.Reply(new VaultProtocol.TopUpCompleted(second.RequestId, "0xbbb", second.Amount));
        var third = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        VaultProtocol.TopUpRequest[] requests = [first, second, third];
        var servedAt = Array.FindIndex(requests, r => r.To == critical);
        Assert.InRange(servedAt, 0, 1);
        Assert.Equal(RebalancePriority.Critical, requests[servedAt].Priority);
        Assert.Equal(normalOrder.Take(2), requests.Where(r => r.To != critical).Select(r => r.To));

        var started = JournalEvents().Select(e => e.Event).OfType<TopUpStarted>().Select(s => s.RequestId).ToArray();
        Assert.Equal([first.RequestId, second.RequestId, third.RequestId], started);

        // The state the actor holds is the state its journal recovers to (and the hash chain links in order).
        var live = await orchestrator.Ask<TreasuryView>(GetTreasury.Instance, Wait);
        await StopAsync(orchestrator);
        var recovered = await Start().Ask<TreasuryView>(GetTreasury.Instance, Wait);
        _vault.ExpectMsg<VaultProtocol.GetTopUp>(Wait); // it asks about the one in flight, it does not request it again
        Assert.Equal(live.Queue.Select(n => (n.NeedId, n.Priority, n.Wallet)), recovered.Queue.Select(n => (n.NeedId, n.Priority, n.Wallet)));
        Assert.Equal(live.InFlight.Select(n => n.RequestId), recovered.InFlight.Select(n => n.RequestId));
        Assert.Empty(AuditLog.Get(Sys).RecentFaults);
    }

    [Fact]
    public async Task A_failing_vault_is_retried_with_backoff_paged_once_across_a_restart_and_resolved_once_after_recovery()
    {
        using var receiver = new WebhookReceiver();
        var pager = new PagerDutyClient(new HttpClient(), new PagingSettings { Url = receiver.Url, RoutingKey = "rk-test", MaxAttempts = 2 });
        var finished = CreateTestProbe();
        Sys.EventStream.Subscribe(finished.Ref, typeof(RebalanceFinished));
        var orchestrator = Start(pager);
        var wallet = WalletNo(7);

        orchestrator.Tell(Reading(wallet, 5));
        for (var i = 1; i <= 3; i++)
        {
            var request = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
            _vault.Reply(new VaultFailed(request.RequestId, "vault_rpc_down", "every endpoint of the vault's chain refused the connection", true));
        }

        // Three failures: one trigger, one alert.
        await AwaitAsync(() => receiver.Bodies.Count == 1);
        var raised = _alerts.ExpectMsg<AlertProtocol.RaiseAlert>(Wait);
        Assert.Equal((AlertKinds.TopUpFailing, "chain 31337"), (raised.Kind, raised.Subject));
        await AwaitAsync(() => JournalEvents().Any(e => e.Event is PageSent));

        // A failover: the singleton starts again from its journal and does not page the trigger again.
        await StopAsync(orchestrator);
        orchestrator = Start(pager);
        var fourth = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        _vault.Reply(new VaultFailed(fourth.RequestId, "vault_rpc_down", "still down", true));
        var fifth = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        _vault.Reply(new VaultProtocol.TopUpSubmitted(fifth.RequestId, "0xf00d"));
        _vault.Reply(new VaultProtocol.TopUpCompleted(fifth.RequestId, "0xf00d", fifth.Amount));

        await AwaitAsync(() => receiver.Bodies.Count == 2);
        _alerts.ExpectMsg<AlertProtocol.ResolveAlert>(Wait);
        await AwaitAsync(() => JournalEvents().Count(e => e.Event is PageSent) == 2);
        await StopAsync(orchestrator);
        Start(pager);
        await Task.Delay(500);

        // Exactly one trigger and one resolve, with the chain and reason as dedup key.
        var pages = receiver.Bodies.ToArray();
        Assert.Equal(["trigger", "resolve"], pages.Select(p => p.GetProperty("event_action").GetString()));
        Assert.All(pages, p => Assert.Equal("topup_failing:chain 31337", p.GetProperty("dedup_key").GetString()));
        Assert.All(pages, p => Assert.Equal("rk-test", p.GetProperty("routing_key").GetString()));
        var payload = pages[0].GetProperty("payload");
        Assert.Equal("critical", payload.GetProperty("severity").GetString());
        Assert.Contains("failed 3 times", payload.GetProperty("summary").GetString());
        Assert.Equal("31337", payload.GetProperty("custom_details").GetProperty("chainId").GetString());

        // Backoff in the journal's timestamps: each retry starts no earlier than its failure's due time, and the waits double (with
        // up to 20 % jitter taken off) from 300 ms.
        var events = JournalEvents().Select(e => e.Event).ToArray();
        var starts = events.OfType<TopUpStarted>().ToArray();
        var failures = events.OfType<TopUpFailed>().ToArray();
        Assert.Equal(5, starts.Length);
        Assert.Equal(4, failures.Length);
        Assert.Equal([1, 2, 3, 4], failures.Select(f => f.Failures));
        for (var i = 0; i < failures.Length; i++)
        {
            var ceiling = Math.Min(2_000, 300 * Math.Pow(2, i));
            var wait = (failures[i].NextAttemptAt - failures[i].Meta.At).TotalMilliseconds;
            Assert.InRange(wait, ceiling * 0.8 - 1, ceiling + 1);
            Assert.True(starts[i + 1].Meta.At >= failures[i].NextAttemptAt, $"attempt {i + 2} started before its backoff ended");
            _output.WriteLine($"failure {i + 1} at {failures[i].Meta.At:HH:mm:ss.fff}, retry {i + 2} at {starts[i + 1].Meta.At:HH:mm:ss.fff} (waited {wait:0} ms)");
        }

        Assert.Single(events.OfType<TopUpEscalated>());
        Assert.Single(events.OfType<TopUpRecovered>());
        Assert.Single(events.OfType<TopUpSucceeded>());
        Assert.All(events.Cast<IOrchestratorEvent>(), e => Assert.Equal("system:orchestrator", e.Meta.Actor));
        var outcomes = finished.ReceiveN(5, Wait).Cast<RebalanceFinished>().Select(r => r.Succeeded).ToArray();
        Assert.Equal([false, false, false, false, true], outcomes);
    }

    [Fact]
    public async Task After_a_crash_with_a_top_up_in_flight_the_orchestrator_asks_the_vault_and_never_requests_the_need_again()
    {
        var orchestrator = Start();
        var wallet = WalletNo(3);
        orchestrator.Tell(Reading(wallet, 5));
        var request = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        Assert.Equal((wallet, Eth(95), RebalancePriority.Critical), (request.To, request.Amount, request.Priority));

        // The journal had TopUpStarted (with the request id) before the request left: a restart asks about that id.
        await StopAsync(orchestrator);
        orchestrator = Start();
        var asked = _vault.ExpectMsg<VaultProtocol.GetTopUp>(Wait);
        Assert.Equal(request.RequestId, asked.RequestId);

        // The wallet still reads low, more urgently each time: nothing new is requested while the vault is on it.
        for (var i = 0; i < 5; i++) orchestrator.Tell(Reading(wallet, 4 - i));
        _vault.Reply(new VaultProtocol.TopUpSubmitted(request.RequestId, "0xbeef"));
        _vault.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        orchestrator.Tell(new VaultProtocol.TopUpCompleted(request.RequestId, "0xbeef", request.Amount), _vault.Ref);
        await AwaitAsync(() => JournalEvents().Any(e => e.Event is TopUpSucceeded));
        orchestrator.Tell(Reading(wallet, 100));
        _vault.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        var events = JournalEvents().Select(e => e.Event).ToArray();
        Assert.Single(events.OfType<TopUpStarted>());
        Assert.Equal("0xbeef", Assert.Single(events.OfType<TopUpSucceeded>()).TxHash);
        var view = await orchestrator.Ask<TreasuryView>(GetTreasury.Instance, Wait);
        Assert.Empty(view.Queue);
        Assert.Empty(view.InFlight);
    }

    [Fact]
    public async Task A_vault_that_forgot_a_top_up_it_had_broadcast_is_not_asked_to_pay_it_again()
    {
        var orchestrator = Start();
        var wallet = WalletNo(4);
        orchestrator.Tell(Reading(wallet, 5));
        var request = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);
        _vault.Reply(new VaultProtocol.TopUpSubmitted(request.RequestId, "0xfeed"));
        await AwaitAsync(() => JournalEvents().Any(e => e.Event is TopUpBroadcast));

        // The vault answers as if it had never seen the request: it had broadcast a transfer for it, so asking again could pay twice.
        orchestrator.Tell(new VaultProtocol.TopUpUnknown(request.RequestId), _vault.Ref);
        _vault.ExpectNoMsg(TimeSpan.FromMilliseconds(800));

        Assert.Single(JournalEvents().Select(e => e.Event).OfType<TopUpStarted>());
        var view = await orchestrator.Ask<TreasuryView>(GetTreasury.Instance, Wait);
        Assert.Single(view.InFlight);
    }

    [Fact]
    public async Task The_orchestrator_reads_balances_through_its_reader_and_reads_a_chain_again_on_a_pools_hint()
    {
        var chains = new FakeChains(Chain, WalletNo(1), Eth(150));
        var orchestrator = Sys.ActorOf(OrchestratorActor.PropsFor(Dependencies() with { Chains = chains }));
        await AwaitAssertAsync(async () => Assert.Single((await orchestrator.Ask<TreasuryView>(GetTreasury.Instance, Wait)).Wallets), Wait);
        var reads = chains.Reads;

        chains.Balance = Eth(5);
        orchestrator.Tell(new PoolBalanceChanged(Chain));
        orchestrator.Tell(new PoolBalanceChanged(Chain)); // a burst of hints is one read
        var request = _vault.ExpectMsg<VaultProtocol.TopUpRequest>(Wait);

        Assert.Equal((WalletNo(1), Eth(95), RebalancePriority.Critical), (request.To, request.Amount, request.Priority));
        Assert.Equal(reads + 1, chains.Reads);
    }

    private IActorRef Start(IPager? pager = null) => Sys.ActorOf(OrchestratorActor.PropsFor(Dependencies(pager)));

    private OrchestratorDependencies Dependencies(IPager? pager = null) =>
        new(Settings, pager ?? new PagerDutyClient(new HttpClient(), new PagingSettings()), TimeProvider.System, new Random(7))
        {
            Vault = _ => _vault.Ref,
            Alerts = _ => _alerts.Ref,
        };

    private async Task StopAsync(IActorRef actor)
    {
        Watch(actor);
        actor.Tell(PoisonPill.Instance);
        ExpectTerminated(actor, Wait);
        await Task.Delay(50);
    }

    private List<(long Seq, object Event)> JournalEvents()
    {
        using var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, "journal.db"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number, manifest, message FROM journal WHERE persistence_id = 'orchestrator' ORDER BY sequence_number";
        using var reader = command.ExecuteReader();
        var events = new List<(long, object)>();
        while (reader.Read())
            events.Add((reader.GetInt64(0), ((ChainedEvent)ChainEnvelope.Read((byte[])reader[2], reader.GetString(1))).Event));
        return events;
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

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _journal.Dispose();
    }

    private sealed class FakeChains(ChainId chain, Address wallet, Wei balance) : ITreasuryChains
    {
        private int _reads;
        public Wei Balance { get; set; } = balance;
        public int Reads => Volatile.Read(ref _reads);
        public IReadOnlyList<ChainId> Chains => [chain];
        public IReadOnlyList<Address> WalletsOf(ChainId c) => c == chain ? [wallet] : [];

        public async Task<BigInteger> BalanceAsync(ChainId c, Address w, CancellationToken ct)
        {
            await Task.Yield();
            Interlocked.Increment(ref _reads);
            return Balance.Value;
        }
    }

    /// <summary>A loopback PagerDuty stand-in: takes every POST (202) and keeps its JSON body.</summary>
    private sealed class WebhookReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly CancellationTokenSource _stop = new();

        public WebhookReceiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = new Uri($"http://127.0.0.1:{port}/v2/enqueue");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public Uri Url { get; }
        public ConcurrentQueue<JsonElement> Bodies { get; } = new();

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }

                using (var reader = new StreamReader(context.Request.InputStream))
                    Bodies.Enqueue(JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone());
                context.Response.StatusCode = 202;
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Close();
        }
    }
}
