using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static GrandPaymaster.Domain.Compliance.DenylistProtocol;

namespace GrandPaymaster.Actors.Tests.Audit;

/// <summary>
/// An entity on <see cref="AuditedPersistentActor"/> over a real SQLite journal: its events are chained as written, recovery (from
/// events, from a snapshot, after plain pre-chain events) continues the chain, and the verifier and checkpoints see it.
/// </summary>
public sealed class AuditedPersistentActorSpecs : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempJournal _journal;

    public AuditedPersistentActorSpecs(ITestOutputHelper output) : this(new TempJournal(), output)
    {
    }

    private AuditedPersistentActorSpecs(TempJournal journal, ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString($"gpm.audit.directory = \"{Path.Combine(journal.DataDirectory, "audit").Replace("\\", "\\\\")}\"")
            .WithFallback(journal.Config), output: output)
    {
        _journal = journal;
    }

    [Fact]
    public async Task Events_written_by_every_persist_flavour_form_one_chain_the_verifier_accepts()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-a")));
        foreach (var mode in new[] { "one", "all", "async", "all-async" })
            await entity.Ask<Written>(new Write(mode, [Added(mode + "-1"), Added(mode + "-2")]), Wait);

        var verification = await new AuditVerifier(Sys).VerifyAsync();

        Assert.True(verification.Ok, verification.FirstBad?.Problem);
        Assert.Equal((1L, 8L, 0L), (verification.Entities, verification.Events, verification.LegacyEvents));
        Assert.Equal(8, await entity.Ask<int>(Count.Instance, Wait));
    }

    [Fact]
    public async Task Recovery_from_a_snapshot_continues_the_chain()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-b")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2"), Added("3")]), Wait);
        await entity.Ask<SaveSnapshotSuccess>(Snap.Instance, Wait);
        await entity.Ask<Written>(new Write("one", [Added("4")]), Wait);
        await StopAsync(entity);

        var again = Sys.ActorOf(Props.Create(() => new Ledger("ledger-b")));
        var report = await again.Ask<Report>(Inspect.Instance, Wait);
        await again.Ask<Written>(new Write("all", [Added("5"), Added("6")]), Wait);
        var verification = await new AuditVerifier(Sys).VerifyAsync();

        Assert.Equal((4, true, null), (report.Count, report.FromSnapshot, report.Fault));
        Assert.True(verification.Ok, verification.FirstBad?.Problem);
        Assert.Equal(6, verification.Events);
    }

    [Fact]
    public async Task Events_written_before_the_chain_recover_and_count_as_a_legacy_prefix()
    {
        var plain = Sys.ActorOf(Props.Create(() => new PlainLedger("ledger-c")));
        await plain.Ask<Written>(new Write("all", [Added("old-1"), Added("old-2")]), Wait);
        await StopAsync(plain);

        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-c")));
        var recovered = await entity.Ask<Report>(Inspect.Instance, Wait);
        await entity.Ask<Written>(new Write("one", [Added("new-1")]), Wait);
        await entity.Ask<SaveSnapshotSuccess>(Snap.Instance, Wait);
        await entity.Ask<Written>(new Write("one", [Added("new-2")]), Wait);
        await StopAsync(entity);
        var again = await Sys.ActorOf(Props.Create(() => new Ledger("ledger-c"))).Ask<Report>(Inspect.Instance, Wait);
        var verification = await new AuditVerifier(Sys).VerifyAsync();

        Assert.Equal((2, null), (recovered.Count, recovered.Fault));
        Assert.Equal((4, true, null), (again.Count, again.FromSnapshot, again.Fault));
        Assert.True(verification.Ok, verification.FirstBad?.Problem);
        Assert.Equal((4L, 2L), (verification.Events, verification.LegacyEvents));
    }

    [Fact]
    public async Task A_plain_event_after_chained_ones_is_a_fault_the_entity_reports_and_survives()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-d")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2")]), Wait);
        await StopAsync(entity);
        var plain = Sys.ActorOf(Props.Create(() => new PlainLedger("ledger-d")));
        await plain.Ask<Written>(new Write("one", [Added("sneaked-in")]), Wait);
        await StopAsync(plain);

        var report = await Sys.ActorOf(Props.Create(() => new Ledger("ledger-d"))).Ask<Report>(Inspect.Instance, Wait);
        var verification = await new AuditVerifier(Sys).VerifyAsync();

        Assert.Equal(3, report.Count);
        Assert.Equal(("ledger-d", 3L, "unchained"), (report.Fault!.PersistenceId, report.Fault.SequenceNr, report.Fault.Code));
        Assert.Equal(report.Fault, verification.FirstBad);
        Assert.Contains(report.Fault, AuditLog.Get(Sys).RecentFaults);
    }

    [Fact]
    public async Task Signed_checkpoints_catch_a_truncated_journal_and_an_altered_checkpoint_line()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-e")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2"), Added("3")]), Wait);
        var audit = AuditLog.Get(Sys);
        audit.Checkpoint();
        await entity.Ask<Written>(new Write("one", [Added("4")]), Wait);
        audit.Checkpoint();
        var lines = File.ReadAllLines(audit.CheckpointPath!);
        var intact = await new AuditVerifier(Sys).VerifyAsync();

        Execute("DELETE FROM journal WHERE persistence_id = 'ledger-e' AND sequence_number >= 3");
        var truncated = await new AuditVerifier(Sys).VerifyAsync();
        Execute("DELETE FROM journal WHERE persistence_id = 'ledger-e'");
        var emptied = await new AuditVerifier(Sys).VerifyAsync();
        File.WriteAllLines(audit.CheckpointPath!, [lines[0].Replace("\"seq\":3", "\"seq\":2"), lines[1]]);
        var forged = await new AuditVerifier(Sys).VerifyAsync();

        Assert.Equal(2, lines.Length);
        Assert.Contains("\"pid\":\"ledger-e\",\"seq\":4", lines[1]);
        Assert.True(intact.Ok, intact.FirstBad?.Problem);
        Assert.Equal(2, intact.Checkpoints);
        Assert.Equal(("ledger-e", 3L, "truncated"), (truncated.FirstBad!.PersistenceId, truncated.FirstBad.SequenceNr, truncated.FirstBad.Code));
        Assert.Equal(("ledger-e", 1L, "truncated"), (emptied.FirstBad!.PersistenceId, emptied.FirstBad.SequenceNr, emptied.FirstBad.Code));
        Assert.Equal((CheckpointFile.FileName, 1L, "checkpoint_invalid"), (forged.FirstBad!.PersistenceId, forged.FirstBad.SequenceNr, forged.FirstBad.Code));
        Assert.True(File.Exists(Path.Combine(audit.Directory!, AuditKey.PublicFile)));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(audit.Directory!, AuditKey.GeneratedFile)));
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection(GrandPaymaster.Actors.Persistence.PersistenceHocon.SqliteConnectionString(_journal.DataDirectory, "journal.db"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private async Task StopAsync(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor, Wait);
        await Task.CompletedTask;
    }

    private static EntryAdded Added(string name) =>
        new(new DenylistEntry(DenylistKind.Wallet, name, "test", "operator:olga", DateTimeOffset.UnixEpoch, null),
            new Meta(DateTimeOffset.UnixEpoch, "operator:olga", "test " + name, name));

    protected override void AfterAll()
    {
        base.AfterAll();
        _journal.Dispose();
    }

    private sealed record Write(string Mode, IReadOnlyList<EntryAdded> Events);

    private sealed record Written(long SequenceNr);

    private sealed record Report(int Count, bool FromSnapshot, ChainFault? Fault);

    private sealed class Snap
    {
        public static readonly Snap Instance = new();
    }

    private sealed class Inspect
    {
        public static readonly Inspect Instance = new();
    }

    private sealed class Count
    {
        public static readonly Count Instance = new();
    }

    /// <summary>An audited entity: a denylist state, written in the asked persist flavour.</summary>
    private sealed class Ledger : AuditedPersistentActor
    {
        private DenylistState _state = DenylistState.Empty;
        private bool _fromSnapshot;
        private IActorRef? _snapshotRequester;

        public Ledger(string persistenceId)
        {
            PersistenceId = persistenceId;
            Recover<SnapshotOffer>(o =>
            {
                _state = (DenylistState)o.Snapshot;
                _fromSnapshot = true;
            });
            Recover<EntryAdded>(e => _state = _state.Apply(e));
            Command<Write>(w =>
            {
                var sender = Sender;
                var remaining = w.Events.Count;
                void Applied(EntryAdded e)
                {
                    _state = _state.Apply(e);
                    if (--remaining == 0) sender.Tell(new Written(LastSequenceNr));
                }

                switch (w.Mode)
                {
                    case "one":
                        foreach (var e in w.Events) Persist(e, Applied);
                        break;
                    case "async":
                        foreach (var e in w.Events) PersistAsync(e, Applied);
                        break;
                    case "all-async":
                        PersistAllAsync(w.Events, Applied);
                        break;
                    default:
                        PersistAll(w.Events, Applied);
                        break;
                }
            });
            Command<Snap>(_ =>
            {
                _snapshotRequester = Sender;
                SaveSnapshot(_state);
            });
            Command<SaveSnapshotSuccess>(s => _snapshotRequester?.Tell(s));
            Command<Inspect>(_ => Sender.Tell(new Report(_state.Items.Count, _fromSnapshot, ChainFault)));
            Command<Count>(_ => Sender.Tell(_state.Items.Count));
        }

        public override string PersistenceId { get; }
    }

    /// <summary>What an entity wrote before the chain existed: plain events.</summary>
    private sealed class PlainLedger : ReceivePersistentActor
    {
        public PlainLedger(string persistenceId)
        {
            PersistenceId = persistenceId;
            RecoverAny(_ => { });
            Command<Write>(w =>
            {
                var sender = Sender;
                PersistAll(w.Events, _ => { }, () => sender.Tell(new Written(LastSequenceNr)));
            });
        }

        public override string PersistenceId { get; }
    }
}
