using Akka.Cluster;
using Akka.DistributedData;

namespace GrandPaymaster.Actors.Replication;

/// <summary>
/// A map replicated through Distributed Data, spread over <see cref="Shards"/> LWW dictionaries by a stable hash of the entry's
/// key: one dictionary's full state must fit a remoting frame (128 KB by default) when a node joins, so a directory of
/// thousands of dApps or a long denylist is never one value.
/// </summary>
public sealed class ShardedMap<T>(string name, int shards = 64) where T : class
{
    private readonly LWWDictionaryKey<string, T>[] _keys =
        Enumerable.Range(0, shards).Select(i => new LWWDictionaryKey<string, T>($"{name}-{i}")).ToArray();

    public int Shards => shards;

    public IReadOnlyList<LWWDictionaryKey<string, T>> Keys => _keys;

    public LWWDictionaryKey<string, T> KeyOf(string entry) => _keys[Shard(entry)];

    public Update Set(UniqueAddress self, string entry, T value, IWriteConsistency consistency, object? request = null) =>
        Dsl.Update(KeyOf(entry), LWWDictionary<string, T>.Empty, consistency, request, map => map.SetItem(self, entry, value));

    public Update Remove(UniqueAddress self, string entry, IWriteConsistency consistency, object? request = null) =>
        Dsl.Update(KeyOf(entry), LWWDictionary<string, T>.Empty, consistency, request, map => map.Remove(self, entry));

    /// <summary>The entries of a changed shard, or null when the change is not one of this map's keys.</summary>
    public IReadOnlyDictionary<string, T>? EntriesOf(Changed changed) =>
        changed.Key is LWWDictionaryKey<string, T> key && Array.IndexOf(_keys, key) >= 0 ? changed.Get(key).Entries : null;

    /// <summary>FNV-1a: the same shard for an entry on every node and every run (string.GetHashCode is seeded per process).</summary>
    private int Shard(string entry)
    {
        var hash = 2166136261u;
        foreach (var c in entry) hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)shards);
    }
}
