using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Actors.Serialization;

/// <summary>
/// Serializes every <see cref="IPaymasterMessage"/> (events, snapshots, cross-node messages) as
/// System.Text.Json with an explicit short manifest from <see cref="MessageManifests"/>.
/// An unknown type or manifest throws: silently falling back would write unreadable audit rows.
/// </summary>
public sealed class PaymasterSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id; ids below 100 are reserved by Akka.</summary>
    public const int SerializerId = 4711;

    internal static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        Converters =
        {
            new BigIntegerJsonConverter(), new ChainIdJsonConverter(), new AddressJsonConverter(), new DappIdJsonConverter(),
            new QuoteIdJsonConverter(), new WeiJsonConverter(), new BpsJsonConverter(), new TokenAmountJsonConverter(),
            new ConversionRateJsonConverter(), new DepositReferencesJsonConverter(), new JsonStringEnumConverter(),
        },
    };

    public PaymasterSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    public override int Identifier => SerializerId;

    /// <summary>
    /// A chained event or snapshot (the audit hash chain) keeps its inner message's manifest: the journal row says what the event
    /// is, and the bytes tell the envelope from a plain row (<see cref="ChainEnvelope"/>).
    /// </summary>
    public override string Manifest(object o) => o switch
    {
        ChainedEvent e => e.Manifest,
        ChainedSnapshot s => s.StateManifest,
        _ => ManifestOf(o),
    };

    public override byte[] ToBinary(object obj) => obj switch
    {
        ChainedEvent e => ChainEnvelope.Write(e),
        ChainedSnapshot s => ChainEnvelope.Write(s),
        _ => Encode(obj).Payload,
    };

    public override object FromBinary(byte[] bytes, string manifest) =>
        ChainEnvelope.IsEnvelope(bytes) ? ChainEnvelope.Read(bytes, manifest) : Decode(bytes, manifest);

    /// <summary>The manifest and JSON bytes of a registered message (what a chained event hashes).</summary>
    public static (string Manifest, byte[] Payload) Encode(object message) =>
        (ManifestOf(message), JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Options));

    /// <summary>The message of a manifest and its JSON bytes.</summary>
    public static object Decode(byte[] payload, string manifest)
    {
        if (!MessageManifests.TypeByManifest.TryGetValue(manifest, out var type))
            throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}': this node cannot read that message.");
        return JsonSerializer.Deserialize(payload, type, Options)
               ?? throw new System.Runtime.Serialization.SerializationException($"Manifest '{manifest}' decoded to null.");
    }

    private static string ManifestOf(object o) =>
        MessageManifests.ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"No manifest is registered for {o.GetType().FullName}; add it to {nameof(MessageManifests)}.");
}
