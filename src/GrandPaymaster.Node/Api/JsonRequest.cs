using System.Globalization;
using System.Numerics;
using System.Text.Json;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Reads and validates a JSON request body field by field, collecting every error so the dApp sees
/// them all at once. Nothing reaches an actor until <see cref="Errors"/> is empty.
/// </summary>
public sealed class JsonRequest
{
    public const int MaxBodyBytes = 64 * 1024;
    private const int MaxDepth = 16;
    private static readonly BigInteger Uint256Max = BigInteger.Pow(2, 256) - 1;
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private readonly JsonElement _root;

    private JsonRequest(JsonElement root) => _root = root;

    /// <summary>A nested object of a body (a timelocked change's <c>params</c>), read with the same checks.</summary>
    public static JsonRequest Of(JsonElement obj) =>
        obj.ValueKind == JsonValueKind.Object ? new JsonRequest(obj) : throw new ArgumentException("Not a JSON object.", nameof(obj));

    public bool IsValid => _errors.Count == 0;

    public IReadOnlyDictionary<string, string[]> Errors => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray());

    /// <summary>The parsed body, or a problem answer (wrong content type, too large, malformed JSON, not an object).</summary>
    public static async Task<(JsonRequest? Request, IResult? Problem)> ReadAsync(HttpContext http, bool allowEmpty = false)
    {
        if (http.Request.ContentLength is > MaxBodyBytes) return (null, TooLarge(http));
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(http));
        }

        if (body.Length == 0 && allowEmpty) return (new JsonRequest(JsonDocument.Parse("{}").RootElement), null);
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            return (null, Problems.Of(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "Send the body as application/json."));

        try
        {
            if (JsonBodyScan.FindFlaw(body, MaxDepth) is { } flaw)
                return (null, Problems.Of(StatusCodes.Status400BadRequest, "invalid_request", $"The body is not accepted: {flaw.Detail}",
                    new Dictionary<string, string[]> { [flaw.Field.Length > 0 ? flaw.Field : "body"] = [flaw.Error] }));
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, Problems.Of(StatusCodes.Status400BadRequest, "invalid_request", "The body must be a JSON object."));
            EnsureReadableText(document.RootElement);
            return (new JsonRequest(document.RootElement.Clone()), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Of(StatusCodes.Status400BadRequest, "invalid_request", $"The body is not valid JSON: {e.Message}"));
        }
        catch (InvalidOperationException)
        {
            // Valid JSON syntax, but a string that is not valid UTF-16 (a lone escaped surrogate such as "\ud800").
            return (null, Problems.Of(StatusCodes.Status400BadRequest, "invalid_request", "The body contains a string that is not valid Unicode."));
        }
    }

    /// <summary>Decodes every property name and string once, so no field accessor can fail on malformed Unicode later.</summary>
    private static void EnsureReadableText(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    EnsureReadableText(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) EnsureReadableText(item);
                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }

    /// <summary>Every field not named here is an error: a typo must not be silently ignored.</summary>
    public JsonRequest Allow(params string[] names)
    {
        foreach (var property in _root.EnumerateObject())
            if (!names.Contains(property.Name, StringComparer.Ordinal))
                Error(property.Name, "is not a known field");
        return this;
    }

    public string? String(string name, bool required, int maxLength)
    {
        if (!Present(name, required, out var value)) return null;
        if (value.ValueKind != JsonValueKind.String) return InvalidText(name, "must be a string");
        var text = value.GetString()!;
        if (required && text.Trim().Length == 0) return InvalidText(name, "must not be empty");
        // Names, reasons and references end up in the journal, in log lines and in answers to others: no line breaks or escapes.
        if (text.Any(char.IsControl)) return InvalidText(name, "must not contain control characters");
        return text.Length > maxLength ? InvalidText(name, $"must be at most {maxLength} characters") : text;
    }

    public Address? Address(string name)
    {
        var text = String(name, required: true, maxLength: 42);
        if (text is null) return null;
        if (AddressInput.TryParse(text, out var address, out var error)) return address;
        Error(name, error);
        return null;
    }

    public ChainId? ChainId(string name)
    {
        var value = Quantity(name, required: true);
        if (value is null) return null;
        if (value <= 0 || value > long.MaxValue) return Invalid<ChainId>(name, "must be a positive chain id");
        return new ChainId((long)value.Value);
    }

    public FeeToken? Token(string name)
    {
        var text = String(name, required: true, maxLength: 16);
        if (text is null) return null;
        return FeeTokens.TryParse(text, out var token) ? token : Invalid<FeeToken>(name, "must be USDT or VCN");
    }

    /// <summary>Bytes as <c>0x</c>-prefixed hex with an even number of digits, lower-cased; absent is <paramref name="whenAbsent"/> (call data: empty).</summary>
    public string? HexData(string name, string? whenAbsent = "0x")
    {
        if (!Present(name, required: false, out var value)) return whenAbsent;
        if (value.ValueKind != JsonValueKind.String) return InvalidText(name, "must be a 0x-prefixed hex string");
        var text = value.GetString()!;
        if (!text.StartsWith("0x", StringComparison.Ordinal)) return InvalidText(name, "must start with 0x");
        if (text.Length % 2 != 0) return InvalidText(name, "must have an even number of hex digits");
        for (var i = 2; i < text.Length; i++)
            if (!Uri.IsHexDigit(text[i])) return InvalidText(name, $"has a non-hex character at position {i}");
        return text.ToLowerInvariant();
    }

    /// <summary>
    /// A non-negative integer below 2^256: a JSON integer, a decimal string or a <c>0x</c> hex string.
    /// Amounts should be strings: JSON numbers above 2^53 lose precision in most clients.
    /// </summary>
    public BigInteger? Quantity(string name, bool required)
    {
        if (!Present(name, required, out var value)) return null;
        BigInteger parsed;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number when BigInteger.TryParse(value.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out parsed):
                break;
            case JsonValueKind.String when TryParseQuantityText(value.GetString()!, out parsed):
                break;
            default:
                return Invalid<BigInteger>(name, "must be a non-negative integer (decimal string, 0x hex string or JSON integer)");
        }

        if (parsed.Sign < 0) return Invalid<BigInteger>(name, "must not be negative");
        return parsed > Uint256Max ? Invalid<BigInteger>(name, "must be below 2^256") : parsed;
    }

    /// <summary>A field as raw JSON for nested shapes (absent or null: null); the caller validates it and reports with <see cref="Error"/>.</summary>
    public JsonElement? Element(string name) => Present(name, required: false, out var value) ? value : null;

    /// <summary>A non-negative quantity below 2^256 in a nested value (as <see cref="Quantity"/> reads a field).</summary>
    public static bool TryQuantity(JsonElement value, out BigInteger parsed)
    {
        var ok = value.ValueKind switch
        {
            JsonValueKind.Number => BigInteger.TryParse(value.GetRawText(), NumberStyles.None, CultureInfo.InvariantCulture, out parsed),
            JsonValueKind.String => TryParseQuantityText(value.GetString()!, out parsed),
            _ => Fail(out parsed),
        };
        return ok && parsed.Sign >= 0 && parsed <= Uint256Max;
    }

    private static bool Fail(out BigInteger parsed)
    {
        parsed = default;
        return false;
    }

    public int? Integer(string name, bool required, int min, int max)
    {
        if (!Present(name, required, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number)) return Invalid<int>(name, "must be an integer");
        return number < min || number > max ? Invalid<int>(name, $"must be between {min} and {max}") : number;
    }

    public void Error(string name, string message)
    {
        if (!_errors.TryGetValue(name, out var list)) _errors[name] = list = [];
        list.Add(message);
    }

    private bool Present(string name, bool required, out JsonElement value)
    {
        if (_root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null) return true;
        if (required) Error(name, "is required");
        return false;
    }

    /// <summary>Records the error; the field has no value.</summary>
    private T? Invalid<T>(string name, string message) where T : struct
    {
        Error(name, message);
        return null;
    }

    private string? InvalidText(string name, string message)
    {
        Error(name, message);
        return null;
    }

    private static bool TryParseQuantityText(string text, out BigInteger value)
    {
        value = default;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var digits = text[2..];
            return digits.Length is > 0 and <= 64 && digits.All(Uri.IsHexDigit) &&
                   BigInteger.TryParse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        return text.Length is > 0 and <= 80 && (text[0] == '-' ? text.Skip(1) : text).All(char.IsAsciiDigit) && text != "-" &&
               BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The unread body stays on the connection, so the connection is closed rather than reused.</summary>
    private static IResult TooLarge(HttpContext http)
    {
        http.Response.Headers.Connection = "close";
        return Problems.Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", $"Request bodies are limited to {MaxBodyBytes / 1024} KiB.");
    }
}
