using System.Globalization;
using System.Text.Json;

namespace GrandPaymaster.Cli;

/// <summary>Reading the node's JSON for tables: a field as text, a list (bare or wrapped), an object flattened to name–value pairs.</summary>
public static class JsonView
{
    /// <summary>The field's text; nested values in short form; null when absent or JSON null.</summary>
    public static string? Text(this JsonElement element, string path)
    {
        var current = element;
        foreach (var name in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current)) return null;
        }

        return Format(current);
    }

    /// <summary>A value as one cell: strings as they are (times shortened), arrays joined by ", ", objects as compact JSON.</summary>
    public static string? Format(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String => Time(value.GetString()!),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(v => Format(v) ?? "-")),
        _ => value.GetRawText(),
    };

    /// <summary>The items of a list answer: a bare array, or the array under <paramref name="name"/> (<c>{pools: [...]}</c>).</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement root, string name) =>
        root.ValueKind switch
        {
            JsonValueKind.Array => root.EnumerateArray(),
            JsonValueKind.Object when root.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array => list.EnumerateArray(),
            _ => [],
        };

    /// <summary>An object as <c>a.b.c = value</c> pairs (arrays of scalars joined; arrays of objects indexed).</summary>
    public static IEnumerable<(string Name, string? Value)> Flatten(JsonElement element, string prefix = "")
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
                foreach (var pair in Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}"))
                    yield return pair;
        }
        else if (element.ValueKind == JsonValueKind.Array && element.EnumerateArray().Any(e => e.ValueKind is JsonValueKind.Object or JsonValueKind.Array))
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
                foreach (var pair in Flatten(item, $"{prefix}[{i++}]"))
                    yield return pair;
        }
        else
        {
            yield return (prefix.Length == 0 ? "value" : prefix, Format(element));
        }
    }

    /// <summary>An ISO-8601 time as <c>2025-01-31 12:00:05Z</c> (UTC, whole seconds); any other text unchanged.</summary>
    private static string Time(string text) =>
        text.Length is >= 20 and <= 40 && char.IsDigit(text[0]) && text[4] == '-' && text[10] == 'T' &&
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;
}
