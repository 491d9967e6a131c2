using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Serialization;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Serialization;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Actors.Tests.Audit;

/// <summary>The hash chain itself, its envelope's bytes and what sees through it, without an actor.</summary>
public sealed class AuditChainTests : IDisposable
{
    private static readonly Meta Meta = new(new DateTimeOffset(2026, 11, 25, 3, 0, 0, TimeSpan.Zero), "operator:olga", "audit test", "c-1");
    private static readonly DenylistProtocol.EntryRemoved Removed = new(DenylistKind.Wallet, "0x" + new string('4', 40), Meta);

    private readonly ActorSystem _system = ActorSystem.Create("audit-chain-tests",
        ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(PersistenceHocon.Load("akka.hocon")));

    /// <summary>The documented formula computed from scratch: SHA-256(prev ‖ seq as 8 bytes big-endian ‖ manifest ‖ 0x00 ‖ JSON).</summary>
    private static byte[] Independent(byte[] prev, long seq, string manifest, byte[] payload)
    {
        var seqBytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(seqBytes, seq);
        return SHA256.HashData([.. prev, .. seqBytes, .. Encoding.UTF8.GetBytes(manifest), 0, .. payload]);
    }

    [Fact]
    public void A_link_hashes_the_previous_hash_the_sequence_number_the_manifest_and_the_stored_json()
    {
        var first = ChainedEvent.Link(Removed, 1, new byte[32]);
        var second = ChainedEvent.Link(Removed with { Value = "0x" + new string('5', 40) }, 2, first.Hash);

        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Removed, PaymasterSerializer.Options);
        Assert.Equal(json, first.Payload);
        Assert.Equal("denylist.evt.removed", first.Manifest);
        Assert.Equal(Independent(new byte[32], 1, "denylist.evt.removed", json), first.Hash);
        Assert.Equal(Independent(first.Hash, 2, "denylist.evt.removed", second.Payload), second.Hash);
        Assert.Equal(first.Hash, second.PrevHash);
        // The sequence number is part of the hash: the same event one place later hashes differently.
        Assert.NotEqual(first.Hash, ChainedEvent.Link(Removed, 2, new byte[32]).Hash);
    }

    [Fact]
    public void A_chained_event_round_trips_through_the_bound_serializer_keeping_its_events_manifest_and_bytes()
    {
        var chained = ChainedEvent.Link(Removed, 7, RandomNumberGenerator.GetBytes(32));
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(chained);

        var manifest = serializer.Manifest(chained);
        var bytes = serializer.ToBinary(chained);
        var copy = Assert.IsType<ChainedEvent>(serializer.FromBinary(bytes, manifest));

        Assert.IsType<PaymasterSerializer>(serializer);
        Assert.Equal("denylist.evt.removed", manifest);
        Assert.Equal(ChainEnvelope.EventMagic, bytes[0]);
        Assert.Equal(2 + 8 + 32 + 32 + chained.Payload.Length, bytes.Length);
        Assert.Equal(7L, copy.SequenceNr);
        Assert.Equal(chained.PrevHash, copy.PrevHash);
        Assert.Equal(chained.Hash, copy.Hash);
        Assert.Equal(chained.Payload, copy.Payload);
        Assert.Equal(Removed, copy.Event);
        Assert.True(copy.HashMatches(7));
        Assert.False(copy.HashMatches(8));
    }

    [Fact]
    public void A_chained_snapshot_round_trips_with_and_without_a_chain_head_and_a_plain_row_still_reads()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(Removed);
        var state = DenylistState.Empty.Apply(new DenylistProtocol.EntryAdded(
            new DenylistEntry(DenylistKind.Wallet, Removed.Value, "rule", "operator:olga", Meta.At, null), Meta));
        foreach (var hash in new[] { RandomNumberGenerator.GetBytes(32), null })
        {
            var snapshot = new ChainedSnapshot(12, hash, state);
            var copy = Assert.IsType<ChainedSnapshot>(serializer.FromBinary(serializer.ToBinary(snapshot), serializer.Manifest(snapshot)));
            Assert.Equal("denylist.state", serializer.Manifest(snapshot));
            Assert.Equal(12L, copy.SequenceNr);
            Assert.Equal(hash, copy.Hash);
            Assert.Equal(serializer.ToBinary(state), serializer.ToBinary(copy.State));
        }

        Assert.Equal(Removed, serializer.FromBinary(serializer.ToBinary(Removed), "denylist.evt.removed"));

        // Signed: the signature round-trips and verifies with the public key only, for this persistence id only.
        var dir = Path.Combine(Path.GetTempPath(), "gpm-snapkey-" + Guid.NewGuid().ToString("N"));
        using (var key = AuditKey.LoadOrCreate(dir, null))
        using (var publicKey = key.PublicKey())
        {
            var signed = new ChainedSnapshot(12, RandomNumberGenerator.GetBytes(32), state).SignedBy(key, "denylist");
            var copy = Assert.IsType<ChainedSnapshot>(serializer.FromBinary(serializer.ToBinary(signed), "denylist.state"));
            Assert.Equal(2, serializer.ToBinary(signed)[1]);
            Assert.Equal(signed.Signature, copy.Signature);
            Assert.Equal(signed.Hash, copy.Hash);
            Assert.True(SnapshotSignature.Verify("denylist", copy, publicKey));
            Assert.False(SnapshotSignature.Verify("denylist-2", copy, publicKey));
            Assert.Equal(serializer.ToBinary(state), serializer.ToBinary(copy.State));
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void The_admin_tagger_tags_a_chained_registration_and_leaves_a_chained_hold_untagged()
    {
        var tagger = new AdminEventTagger();
        var dapp = DappId.New();
        var registered = ChainedEvent.Link(new DappEvents.DappRegistered(dapp, "Acme", "hash", new Bps(3_000), Meta), 1, new byte[32]);
        var deposit = ChainedEvent.Link(new DappEvents.FundsDeposited(dapp, new TokenAmount(FeeToken.Usdt, 5), "ref", Meta), 2, registered.Hash);

        var tagged = Assert.IsType<Tagged>(tagger.ToJournal(registered));
        Assert.Same(registered, tagged.Payload);
        Assert.Contains(AdminEventTagger.Tag, tagged.Tags);
        Assert.Same(deposit, tagger.ToJournal(deposit));
    }

    [Fact]
    public void A_cursor_names_the_first_bad_link_and_counts_a_plain_prefix_as_legacy()
    {
        var e1 = ChainedEvent.Link(Removed, 3, new byte[32]);
        var e2 = ChainedEvent.Link(Removed, 4, e1.Hash);
        var e3 = ChainedEvent.Link(Removed, 5, e2.Hash);

        var good = new ChainCursor("p");
        Assert.Null(good.Next(1, Removed));
        Assert.Null(good.Next(2, Removed));
        foreach (var (seq, e) in new[] { (3L, e1), (4L, e2), (5L, e3) }) Assert.Null(good.Next(seq, e));
        Assert.Equal((2L, true, e3.Hash), (good.LegacyEvents, good.Chained, good.LastHash));

        Assert.Equal(("missing", 4L), Fault(c => { c.Next(1, Removed); c.Next(2, Removed); c.Next(3, e1); c.Next(5, e3); }));
        Assert.Equal(("reordered", 4L), Fault(c => { c.Next(1, Removed); c.Next(2, Removed); c.Next(3, e1); c.Next(4, e3); }));
        Assert.Equal(("unchained", 4L), Fault(c => { c.Next(1, Removed); c.Next(2, Removed); c.Next(3, e1); c.Next(4, Removed); }));
        Assert.Equal(("broken_link", 3L), Fault(c => { c.StartAfterSnapshot(2, RandomNumberGenerator.GetBytes(32)); c.Next(3, e1); }));
        var edited = (ChainedEvent)ChainEnvelope.Read(Edit(ChainEnvelope.Write(e2)), e2.Manifest);
        Assert.Equal(("hash_mismatch", 4L), Fault(c => { c.StartAfterSnapshot(3, e1.Hash); c.Next(4, edited); c.Next(5, e3); }));
    }

    [Fact]
    public void Journal_write_latency_drains_each_bucket_once_with_its_mean()
    {
        var latency = new JournalWriteLatency();
        latency.Observe(System.Diagnostics.Stopwatch.GetTimestamp());
        latency.Observe(System.Diagnostics.Stopwatch.GetTimestamp() - System.Diagnostics.Stopwatch.Frequency); // one second ago

        var drained = latency.Drain().ToArray();
        Assert.Equal(2, drained.Sum(d => d.Count));
        Assert.Contains(drained, d => d.MeanSeconds is > 0.99 and < 1.5);
        Assert.Empty(latency.Drain());
    }

    private static (string, long) Fault(Action<ChainCursor> walk)
    {
        var cursor = new ChainCursor("p");
        walk(cursor);
        return (cursor.Fault!.Code, cursor.Fault.SequenceNr);
    }

    /// <summary>One byte of the JSON payload changed (the last header byte is at 73).</summary>
    private static byte[] Edit(byte[] envelope)
    {
        var copy = envelope.ToArray();
        copy[^3] ^= 0x01;
        return copy;
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
