using System.Text.Json;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using GrandPaymaster.Actors.Serialization;

namespace GrandPaymaster.Actors.Audit;

/// <summary>
/// What an operator asks of the audit log: <paramref name="Actor"/> (<c>Meta.Actor</c> prefix, e.g. <c>operator:</c>),
/// <paramref name="Entity"/> (persistence id or its prefix, e.g. <c>dapp-</c>), <paramref name="Type"/> (manifest or its prefix, e.g.
/// <c>pool.evt.mode</c>), <paramref name="From"/>/<paramref name="To"/> (<c>Meta.At</c>, inclusive/exclusive), at most
/// <paramref name="Limit"/> events after journal position <paramref name="After"/>; <paramref name="Visible"/> (null: all) says which
/// persistence ids the asking operator may read (a scoped operator's chains and dApps).
/// </summary>
public sealed record AuditFilter(string? Actor, string? Entity, string? Type, DateTimeOffset? From, DateTimeOffset? To, int Limit, long After,
    Func<string, bool>? Visible = null);

/// <summary>One audited event: where it is, who/when/why (its <c>Meta</c>), its chain link (null for a pre-chain row) and its stored JSON.</summary>
public sealed record AuditRecord(long Position, string PersistenceId, long SequenceNr, string Type, DateTimeOffset? At, string? Actor, string? Reason,
    string? CorrelationId, string? PrevHash, string? Hash, JsonElement Event);

/// <summary>A page of the audit log; <paramref name="Next"/> is the position to continue after (null: the journal's end was reached).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Events, long? Next);

/// <summary>
/// Reads the audit log through Persistence.Query (<c>CurrentAllEvents</c> of the SQL read journal, in journal order) and filters in
/// the stream. Cost: the journal has no index on actor, type or time, so a query reads rows in order from its cursor until it has
/// <c>limit</c> matches or has read <see cref="MaxScan"/> rows, whichever comes first; then <c>next</c> lets the caller go on. A
/// narrow filter over a long journal therefore takes several calls; memory is one page.
/// </summary>
public static class AuditQuery
{
    public const int MaxLimit = 500;
    public const int MaxScan = 20_000;

    public static async Task<AuditPage> ReadAsync(ActorSystem system, AuditFilter filter, CancellationToken ct)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var found = new List<AuditRecord>(Math.Min(filter.Limit, MaxLimit));
        long last = filter.After, scanned = 0;
        await journal.CurrentAllEvents(Offset.Sequence(filter.After))
            .Take(MaxScan)
            .TakeWhile(_ => found.Count < filter.Limit)
            .RunForeach(envelope =>
            {
                scanned++;
                last = envelope.Offset is Sequence s ? s.Value : last;
                if (Match(envelope, filter, last) is { } record) found.Add(record);
            }, system.Materializer()).WaitAsync(ct);
        var more = found.Count >= filter.Limit || scanned >= MaxScan;
        return new AuditPage(found, more ? last : null);
    }

    private static AuditRecord? Match(EventEnvelope envelope, AuditFilter filter, long position)
    {
        if (filter.Entity is { } entity && !envelope.PersistenceId.StartsWith(entity, StringComparison.Ordinal)) return null;
        if (filter.Visible is { } visible && !visible(envelope.PersistenceId)) return null;
        string type;
        byte[] payload;
        ChainedEvent? chained = envelope.Event as ChainedEvent;
        if (chained is not null) (type, payload) = (chained.Manifest, chained.Payload);
        else if (MessageManifests.ManifestByType.ContainsKey(envelope.Event.GetType())) (type, payload) = PaymasterSerializer.Encode(envelope.Event);
        else return null;
        if (filter.Type is { } wanted && !type.StartsWith(wanted, StringComparison.Ordinal)) return null;

        JsonElement json;
        try
        {
            using var document = JsonDocument.Parse(payload);
            json = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null; // an edited row that no longer parses: the verifier names it
        }

        var meta = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("Meta", out var m) && m.ValueKind == JsonValueKind.Object ? m : (JsonElement?)null;
        var actor = Text(meta, "Actor");
        DateTimeOffset? at = Text(meta, "At") is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.RoundtripKind, out var parsed) ? parsed : null;
        if (filter.Actor is { } who && (actor is null || !actor.StartsWith(who, StringComparison.Ordinal))) return null;
        if (filter.From is { } from && (at is null || at < from)) return null;
        if (filter.To is { } to && (at is null || at >= to)) return null;
        return new AuditRecord(position, envelope.PersistenceId, envelope.SequenceNr, type, at, actor, Text(meta, "Reason"), Text(meta, "CorrelationId"),
            chained is null ? null : ChainHash.Hex(chained.PrevHash), chained is null ? null : ChainHash.Hex(chained.Hash), json);
    }

    private static string? Text(JsonElement? meta, string name) =>
        meta is { } m && m.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
