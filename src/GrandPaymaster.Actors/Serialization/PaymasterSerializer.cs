using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
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

    public override string Manifest(object o) =>
        MessageManifests.ManifestByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new ArgumentException($"No manifest is registered for {o.GetType().FullName}; add it to {nameof(MessageManifests)}.");

    public override byte[] ToBinary(object obj)
    {
        Manifest(obj);
        return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!MessageManifests.TypeByManifest.TryGetValue(manifest, out var type))
            throw new System.Runtime.Serialization.SerializationException($"Unknown manifest '{manifest}': this node cannot read that message.");
        return JsonSerializer.Deserialize(bytes, type, Options)
               ?? throw new System.Runtime.Serialization.SerializationException($"Manifest '{manifest}' decoded to null.");
    }
}
