using System.Text.Json;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// One reader pass over a request body before it is parsed, for what <see cref="JsonDocument"/> would let through silently:
/// a field given twice (the document keeps the last one, so the request read is not the one a proxy or log saw) and numbers
/// longer than any value the API takes (2^256 has 78 digits), refused before anything converts them.
/// </summary>
public static class JsonBodyScan
{
    /// <summary>Characters a number token may have: 2^256 written out has 78 digits.</summary>
    public const int MaxNumberLength = 78;

    /// <summary>
    /// The first such flaw (the field it is in, its error, a sentence for the answer), or null. Malformed JSON throws
    /// <see cref="JsonException"/>, as parsing would.
    /// </summary>
    public static (string Field, string Error, string Detail)? FindFlaw(ReadOnlySpan<byte> body, int maxDepth)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
        var names = new Stack<HashSet<string>>();
        var lastName = "";
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    names.Push(new HashSet<string>(StringComparer.Ordinal));
                    break;
                case JsonTokenType.EndObject:
                    names.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    // Compared unescaped: "a" and "\u0061" are one field to the parser.
                    lastName = reader.GetString()!;
                    if (!names.Peek().Add(lastName)) return (lastName, "is given more than once", $"duplicate field \"{lastName}\": send each field once.");
                    break;
                case JsonTokenType.Number when reader.ValueSpan.Length > MaxNumberLength:
                    return (lastName, $"is a number of {reader.ValueSpan.Length} characters, longer than any value taken",
                        $"a JSON number has {reader.ValueSpan.Length} characters; at most {MaxNumberLength} are read (2^256 has 78 digits).");
            }
        }

        return null;
    }
}
