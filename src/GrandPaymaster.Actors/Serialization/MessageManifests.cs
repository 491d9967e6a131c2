using System.Collections.Frozen;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Serialization;

/// <summary>
/// The one table of short, stable manifests. A manifest is written into every journal row, so an
/// entry may be added but never renamed or reused: old rows must keep deserializing.
/// </summary>
public static class MessageManifests
{
    private static readonly (string Manifest, Type Type)[] Entries =
    [
        ("pool.cmd.register-worker", typeof(PoolCommands.RegisterWorkerWallet)),
        ("pool.cmd.get-state", typeof(PoolCommands.GetPoolState)),
        ("pool.reply.worker-registration", typeof(PoolReplies.WorkerWalletRegistration)),
        ("pool.evt.worker-registered", typeof(PoolEvents.WorkerWalletRegistered)),
        ("pool.state", typeof(PoolState)),
    ];

    public static readonly FrozenDictionary<string, Type> TypeByManifest =
        Entries.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);

    public static readonly FrozenDictionary<Type, string> ManifestByType =
        Entries.ToFrozenDictionary(e => e.Type, e => e.Manifest);
}
