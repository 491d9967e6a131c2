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

    [Fact]
    public async Task A_snapshot_with_an_edited_state_or_a_replaced_signature_is_named_by_verify_and_refused_by_recovery()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-f")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2"), Added("3")]), Wait);
        await entity.Ask<SaveSnapshotSuccess>(Snap.Instance, Wait);
        await entity.Ask<Written>(new Write("one", [Added("4")]), Wait);
        await StopAsync(entity);
        var original = SnapshotRow("ledger-f");
        var intact = await new AuditVerifier(Sys).VerifyAsync();

        // One byte of the state: the third entry's wallet "3" becomes "9" (still valid JSON, still a denylist state).
        var edited = (byte[])original.Clone();
        var at = edited.AsSpan().IndexOf("\"3\""u8) + 1;
        edited[at] = (byte)'9';
        WriteSnapshotRow("ledger-f", edited);
        var stateEdited = await new AuditVerifier(Sys).VerifyAsync();
        var refusedEdit = await RecoveryRefusedAsync("ledger-f");

        // The state untouched, the signature replaced by one of another key over the very same message.
        var stored = (ChainedSnapshot)Serializer.FromBinary(original, "denylist.state");
        using var otherKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var resigned = original[..^stored.StatePayload.Length].ToArray();
        otherKey.SignData(SnapshotSignature.Message("ledger-f", stored), System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CopyTo(resigned, resigned.Length - stored.Signature!.Length);
        WriteSnapshotRow("ledger-f", [.. resigned, .. stored.StatePayload]);
        var signatureReplaced = await new AuditVerifier(Sys).VerifyAsync();
        var refusedSignature = await RecoveryRefusedAsync("ledger-f");

        WriteSnapshotRow("ledger-f", original);
        var restored = await Sys.ActorOf(Props.Create(() => new Ledger("ledger-f"))).Ask<Report>(Inspect.Instance, Wait);

        Assert.True(intact.Ok, intact.FirstBad?.Problem);
        Assert.Equal(1, intact.Snapshots);
        Assert.NotNull(stored.Signature);
        Assert.True(at > 0);
        Assert.Equal(("ledger-f", 3L, "snapshot_invalid"), (stateEdited.FirstBad!.PersistenceId, stateEdited.FirstBad.SequenceNr, stateEdited.FirstBad.Code));
        Assert.Equal(("ledger-f", 3L, "snapshot_invalid"), (signatureReplaced.FirstBad!.PersistenceId, signatureReplaced.FirstBad.SequenceNr, signatureReplaced.FirstBad.Code));
        Assert.True(refusedEdit, "the entity recovered from a snapshot whose state was edited");
        Assert.True(refusedSignature, "the entity recovered from a snapshot whose signature was replaced");
        Assert.Contains(AuditLog.Get(Sys).RecentFaults, f => f is { PersistenceId: "ledger-f", SequenceNr: 3, Code: "snapshot_invalid" });
        Assert.Equal((4, true, null), (restored.Count, restored.FromSnapshot, restored.Fault));
    }

    [Fact]
    public async Task A_signed_snapshot_of_another_history_is_named_by_verify_and_refused_and_an_unsigned_one_is_set_aside()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-g")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2"), Added("3")]), Wait);
        await entity.Ask<SaveSnapshotSuccess>(Snap.Instance, Wait);
        await entity.Ask<Written>(new Write("one", [Added("4")]), Wait);
        await StopAsync(entity);
        var stored = (ChainedSnapshot)Serializer.FromBinary(SnapshotRow("ledger-g"), "denylist.state");
        var forgedState = ((DenylistState)stored.State).Apply(Added("forged"));

        // Validly signed by this node, but with a chain head the journal never had at 3 (a snapshot of another history).
        var elsewhere = new ChainedSnapshot(3, new byte[32], stored.State).SignedBy(AuditLog.Get(Sys).Key!, "ledger-g");
        WriteSnapshotRow("ledger-g", Serializer.ToBinary(elsewhere));
        var otherHistory = await new AuditVerifier(Sys).VerifyAsync();
        var refused = await RecoveryRefusedAsync("ledger-g");

        // Unsigned (the pre-signature layout, or a signature stripped) with a forged state: not trusted, the journal decides.
        WriteSnapshotRow("ledger-g", Serializer.ToBinary(new ChainedSnapshot(3, stored.Hash, forgedState)));
        var unsigned = await Sys.ActorOf(Props.Create(() => new Ledger("ledger-g"))).Ask<Report>(Inspect.Instance, Wait);
        var withUnsigned = await new AuditVerifier(Sys).VerifyAsync();

        Assert.Equal(("ledger-g", 3L, "snapshot_invalid"), (otherHistory.FirstBad!.PersistenceId, otherHistory.FirstBad.SequenceNr, otherHistory.FirstBad.Code));
        Assert.True(refused, "the entity recovered from a snapshot of another history");
        Assert.Equal((4, false, null), (unsigned.Count, unsigned.FromSnapshot, unsigned.Fault));
        Assert.True(withUnsigned.Ok, withUnsigned.FirstBad?.Problem);
    }

    [Fact]
    public async Task A_deleted_or_emptied_checkpoint_file_is_reported_once_the_journal_holds_events_older_than_the_interval()
    {
        var entity = Sys.ActorOf(Props.Create(() => new Ledger("ledger-h")));
        await entity.Ask<Written>(new Write("all", [Added("1"), Added("2")]), Wait);
        var audit = AuditLog.Get(Sys);
        audit.Checkpoint();
        var later = new LaterClock(audit.Interval + TimeSpan.FromMinutes(1));
        var withFile = await new AuditVerifier(Sys, later).VerifyAsync();

        File.Delete(audit.CheckpointPath!);
        var deletedNow = await new AuditVerifier(Sys).VerifyAsync();
        var deletedLater = await new AuditVerifier(Sys, later).VerifyAsync();
        File.WriteAllText(audit.CheckpointPath!, "");
        var emptiedLater = await new AuditVerifier(Sys, later).VerifyAsync();

        Assert.True(withFile.Ok, withFile.FirstBad?.Problem);
        // Events younger than one interval may not be checkpointed yet: no finding.
        Assert.True(deletedNow.Ok, deletedNow.FirstBad?.Problem);
        Assert.Equal((CheckpointFile.FileName, "checkpoints_missing"), (deletedLater.FirstBad!.PersistenceId, deletedLater.FirstBad.Code));
        Assert.Equal((CheckpointFile.FileName, "checkpoints_missing"), (emptiedLater.FirstBad!.PersistenceId, emptiedLater.FirstBad.Code));
    }

    private sealed class LaterClock(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow + ahead;
    }

    private Akka.Serialization.SerializerWithStringManifest Serializer =>
        (Akka.Serialization.SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(ChainedSnapshot));

    /// <summary>Whether an entity started on <paramref name="persistenceId"/> stops during recovery (refused) instead of answering.</summary>
    private async Task<bool> RecoveryRefusedAsync(string persistenceId)
    {
        var probe = CreateTestProbe();
        var entity = Sys.ActorOf(Props.Create(() => new Ledger(persistenceId)));
        probe.Watch(entity);
        entity.Tell(Inspect.Instance, probe);
        var answer = await probe.ReceiveOneAsync(Wait);
        return answer is Terminated;
    }

    private SqliteConnection OpenSnapshots()
    {
        var connection = new SqliteConnection(GrandPaymaster.Actors.Persistence.PersistenceHocon.SqliteConnectionString(_journal.DataDirectory,
            GrandPaymaster.Actors.Persistence.PersistenceHocon.SnapshotFile));
        connection.Open();
        return connection;
    }

    /// <summary>The stored bytes of the entity's (only) snapshot row, as an editor of snapshots.db sees them.</summary>
    private byte[] SnapshotRow(string persistenceId)
    {
        using var connection = OpenSnapshots();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT snapshot FROM snapshot WHERE persistence_id = $p";
        command.Parameters.AddWithValue("$p", persistenceId);
        return (byte[])command.ExecuteScalar()!;
    }

    private void WriteSnapshotRow(string persistenceId, byte[] bytes)
    {
        using var connection = OpenSnapshots();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE snapshot SET snapshot = $s WHERE persistence_id = $p";
        command.Parameters.AddWithValue("$s", bytes);
        command.Parameters.AddWithValue("$p", persistenceId);
        Assert.Equal(1, command.ExecuteNonQuery());
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
