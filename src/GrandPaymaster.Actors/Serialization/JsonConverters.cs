using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Actors.Serialization;

/// <summary>Money and quantities travel as decimal strings: JSON numbers lose precision past 2^53.</summary>
internal sealed class BigIntegerJsonConverter : JsonConverter<BigInteger>
{
    public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

    public static BigInteger Parse(string? text) =>
        text is not null && BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new JsonException($"'{text}' is not a decimal integer.");

    public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));

    // Nonces key the free-nonce maps of pool snapshots.
    public override BigInteger ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

    public override void WriteAsPropertyName(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value.ToString(CultureInfo.InvariantCulture));
}

internal sealed class ChainIdJsonConverter : JsonConverter<ChainId>
{
    public override ChainId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetInt64());

    public override void Write(Utf8JsonWriter writer, ChainId value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.Value);
}

internal sealed class AddressJsonConverter : JsonConverter<Address>
{
    public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Address.TryParse(reader.GetString(), out var address) ? address : throw new JsonException("Malformed address.");

    public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value ?? throw new JsonException("An empty address cannot be written: it could never be read back."));

    // Wallets key the nonce books of pool snapshots.
    public override Address ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) => writer.WritePropertyName(value.Value);
}

internal sealed class DappIdJsonConverter : JsonConverter<DappId>
{
    public override DappId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DappId.TryParse(reader.GetString(), out var id) ? id : throw new JsonException("Malformed dApp id.");

    public override void Write(Utf8JsonWriter writer, DappId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);

    public override DappId ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, DappId value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value.Value);
}

internal sealed class QuoteIdJsonConverter : JsonConverter<QuoteId>
{
    public override QuoteId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        QuoteId.TryParse(reader.GetString(), out var id) ? id : throw new JsonException("Malformed quote id.");

    public override void Write(Utf8JsonWriter writer, QuoteId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);

    // Quote ids key the in-flight and execution maps of snapshots.
    public override QuoteId ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, QuoteId value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value.Value);
}

/// <summary>Value types with a validating constructor: written as their single number or string.</summary>
internal sealed class WeiJsonConverter : JsonConverter<Wei>
{
    public override Wei Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(BigIntegerJsonConverter.Parse(reader.GetString()));

    public override void Write(Utf8JsonWriter writer, Wei value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value.ToString(CultureInfo.InvariantCulture));
}

internal sealed class BpsJsonConverter : JsonConverter<Bps>
{
    public override Bps Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetInt32());

    public override void Write(Utf8JsonWriter writer, Bps value, JsonSerializerOptions options) => writer.WriteNumberValue(value.Value);
}

internal sealed class TokenAmountJsonConverter : JsonConverter<TokenAmount>
{
    public override TokenAmount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var (token, units) = TokenQuantity.Read(ref reader, "Units");
        return new TokenAmount(token, units);
    }

    public override void Write(Utf8JsonWriter writer, TokenAmount value, JsonSerializerOptions options) =>
        TokenQuantity.Write(writer, value.Token, "Units", value.Units);
}

internal sealed class ConversionRateJsonConverter : JsonConverter<ConversionRate>
{
    public override ConversionRate Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var (token, units) = TokenQuantity.Read(ref reader, "UnitsPerNativeCoin");
        return new ConversionRate(token, units);
    }

    public override void Write(Utf8JsonWriter writer, ConversionRate value, JsonSerializerOptions options) =>
        TokenQuantity.Write(writer, value.Token, "UnitsPerNativeCoin", value.UnitsPerNativeCoin);
}

/// <summary>The shared shape of token-denominated values: <c>{"Token": "Usdt", "&lt;field&gt;": "decimal"}</c>.</summary>
internal static class TokenQuantity
{
    public static (FeeToken Token, BigInteger Value) Read(ref Utf8JsonReader reader, string field)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        var token = Enum.Parse<FeeToken>(doc.RootElement.GetProperty("Token").GetString()!);
        return (token, BigIntegerJsonConverter.Parse(doc.RootElement.GetProperty(field).GetString()));
    }

    public static void Write(Utf8JsonWriter writer, FeeToken token, string field, BigInteger value)
    {
        writer.WriteStartObject();
        writer.WriteString("Token", token.ToString());
        writer.WriteString(field, value.ToString(CultureInfo.InvariantCulture));
        writer.WriteEndObject();
    }
}

/// <summary>
/// A dApp's deposit references with what each credited: <c>{"wire-1": {"Token": "Usdt", "Units": "5"}}</c>. Snapshots written
/// before amounts were kept hold a plain list of references; those read as references with no amount (null), so such a
/// dApp still recovers and a retry of an old deposit still counts once.
/// </summary>
internal sealed class DepositReferencesJsonConverter : JsonConverter<ImmutableDictionary<string, TokenAmount?>>
{
    private static readonly TokenAmountJsonConverter Amounts = new();

    public override ImmutableDictionary<string, TokenAmount?> Read(ref Utf8JsonReader reader, Type typeToConvert,
        JsonSerializerOptions options)
    {
        var references = ImmutableDictionary.CreateBuilder<string, TokenAmount?>(StringComparer.Ordinal);
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                references[reader.GetString() ?? throw new JsonException("A deposit reference is null.")] = null;
            return references.ToImmutable();
        }

        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("Deposit references are an object or (older snapshots) an array.");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var reference = reader.GetString()!;
            reader.Read();
            references[reference] = reader.TokenType == JsonTokenType.Null ? null : Amounts.Read(ref reader, typeof(TokenAmount), options);
        }

        return references.ToImmutable();
    }

    public override void Write(Utf8JsonWriter writer, ImmutableDictionary<string, TokenAmount?> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (reference, amount) in value)
        {
            writer.WritePropertyName(reference);
            if (amount is { } credited) Amounts.Write(writer, credited, options);
            else writer.WriteNullValue();
        }

        writer.WriteEndObject();
    }
}
