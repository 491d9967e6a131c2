using System.Collections.Immutable;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Domain.Compliance;

/// <summary>What a denylist entry names: a user's wallet, a dApp, or a target contract (on every chain).</summary>
public enum DenylistKind
{
    Wallet,
    Dapp,
    Target,
}

/// <summary>
/// One denylist entry: what, why, by whom (<c>operator:&lt;id&gt;</c> or <c>system:denylist-rules</c>), since when and until when
/// (null: until removed). <paramref name="Dapp"/> scopes it to one dApp's traffic (null: every dApp): a pattern rule fired by one
/// dApp's quotes — whose senders nothing has verified yet — lists the wallet for that dApp only, so no dApp can list a stranger's
/// wallet for everyone.
/// </summary>
public sealed record DenylistEntry(DenylistKind Kind, string Value, string Reason, string AddedBy, DateTimeOffset AddedAt, DateTimeOffset? ExpiresAt,
    string? Dapp = null) : IPaymasterMessage
{
    public string Key => KeyOf(Kind, Value, Dapp);

    public bool IsActiveAt(DateTimeOffset now) => ExpiresAt is not { } end || end > now;

    public static string KeyOf(DenylistKind kind, string value, string? dapp = null) =>
        dapp is null ? $"{kind.ToString().ToLowerInvariant()}:{value}" : $"{kind.ToString().ToLowerInvariant()}:{value}@{dapp}";
}

/// <summary>Reads of the denylist as this node sees it (replicated; no round trip).</summary>
public interface IDenylist
{
    /// <summary>The active entry for <paramref name="value"/>: one for every dApp, else one scoped to <paramref name="dapp"/>.</summary>
    DenylistEntry? Find(DenylistKind kind, string value, DateTimeOffset now, string? dapp = null);
}

/// <summary>The checks every quote and every execute go through before any hold.</summary>
public static class DenylistChecks
{
    /// <summary>The first active entry naming the dApp, the wallet (the user) or the target contract, as a refusal; null when none does.</summary>
    public static Rejection? Check(this IDenylist list, DappId dapp, Address wallet, Address target, DateTimeOffset now)
    {
        var entry = list.Find(DenylistKind.Dapp, dapp.Value, now)
                    ?? list.Find(DenylistKind.Wallet, wallet.Value, now, dapp.Value)
                    ?? list.Find(DenylistKind.Target, target.Value, now, dapp.Value);
        return entry is null
            ? null
            : new Rejection(RejectionCodes.Denylisted, entry.Kind switch
            {
                DenylistKind.Dapp => "This dApp is on the denylist.",
                DenylistKind.Wallet => $"Wallet {entry.Value} is on the denylist{(entry.Dapp is null ? "" : " for this dApp")}.",
                _ => $"Contract {entry.Value} is on the denylist.",
            });
    }
}

/// <summary>Commands, replies and events of the denylist entity (one persistent singleton; its journal is the audit log).</summary>
public static class DenylistProtocol
{
    public interface IDenylistCommand : IPaymasterMessage;

    /// <summary>Adds (or replaces) an entry, for every dApp or only <paramref name="Dapp"/>'s; <paramref name="Meta"/> says who and why.</summary>
    public sealed record AddEntry(DenylistKind Kind, string Value, DateTimeOffset? ExpiresAt, Meta Meta, string? Dapp = null) : IDenylistCommand;

    public sealed record RemoveEntry(DenylistKind Kind, string Value, Meta Meta, string? Dapp = null) : IDenylistCommand;

    public sealed record GetEntries : IDenylistCommand
    {
        public static readonly GetEntries Instance = new();
    }

    public sealed record Entries(ImmutableList<DenylistEntry> Items) : IPaymasterMessage;

    public sealed record EntryAdded(DenylistEntry Entry, Meta Meta) : IPaymasterMessage;

    /// <summary>An entry left the list: removed by an operator, or expired (<c>system:denylist</c>).</summary>
    public sealed record EntryRemoved(DenylistKind Kind, string Value, Meta Meta, string? Dapp = null) : IPaymasterMessage
    {
        public string Key => DenylistEntry.KeyOf(Kind, Value, Dapp);
    }
}

/// <summary>The denylist: pure decisions over the entries, bounded by <see cref="MaxEntries"/>.</summary>
public sealed record DenylistState(ImmutableDictionary<string, DenylistEntry> Items) : IPaymasterMessage
{
    /// <summary>Replicated to every node in 64 parts, each of which must fit a remoting frame when a node joins.</summary>
    public const int MaxEntries = 20_000;

    public const string DenylistFull = "denylist_full";

    public static readonly DenylistState Empty = new(ImmutableDictionary<string, DenylistEntry>.Empty.WithComparers(StringComparer.Ordinal));

    public (IPaymasterMessage Reply, DenylistProtocol.EntryAdded? Event) Decide(DenylistProtocol.AddEntry command)
    {
        var key = DenylistEntry.KeyOf(command.Kind, command.Value, command.Dapp);
        if (Items.TryGetValue(key, out var existing) && existing.ExpiresAt == command.ExpiresAt && existing.IsActiveAt(command.Meta.At))
            return (existing, null);
        if (!Items.ContainsKey(key) && Items.Count >= MaxEntries)
            return (new DappReplies.Rejected(new Rejection(DenylistFull, $"The denylist holds its maximum of {MaxEntries} entries; remove some first.")), null);
        var entry = new DenylistEntry(command.Kind, command.Value, command.Meta.Reason, command.Meta.Actor, command.Meta.At, command.ExpiresAt, command.Dapp);
        return (entry, new DenylistProtocol.EntryAdded(entry, command.Meta));
    }

    public (IPaymasterMessage Reply, DenylistProtocol.EntryRemoved? Event) Decide(DenylistProtocol.RemoveEntry command)
    {
        var key = DenylistEntry.KeyOf(command.Kind, command.Value, command.Dapp);
        if (!Items.TryGetValue(key, out var entry))
            return (new DappReplies.Rejected(new Rejection("not_found", $"{key} is not on the denylist.")), null);
        return (entry, new DenylistProtocol.EntryRemoved(command.Kind, command.Value, command.Meta, command.Dapp));
    }

    /// <summary>Entries whose expiry has passed, to be removed (each with its own event).</summary>
    public IEnumerable<DenylistEntry> ExpiredAt(DateTimeOffset now) => Items.Values.Where(e => !e.IsActiveAt(now));

    public DenylistState Apply(IPaymasterMessage @event) => @event switch
    {
        DenylistProtocol.EntryAdded e => this with { Items = Items.SetItem(e.Entry.Key, e.Entry) },
        DenylistProtocol.EntryRemoved e => this with { Items = Items.Remove(e.Key) },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "Not a denylist event."),
    };
}
