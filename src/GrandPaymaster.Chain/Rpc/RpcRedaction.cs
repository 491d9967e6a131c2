using System.Text;
using System.Text.RegularExpressions;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>
/// Keeps endpoint URLs (which can carry provider API keys in their path, query or user info) and long raw
/// node texts out of exception messages and logs (DESIGN §9). Use <see cref="Redact"/> on any text that came
/// from a node or from the HTTP stack before it is logged or shown.
/// </summary>
public static partial class RpcRedaction
{
    /// <summary>How many characters of a redacted text are kept.</summary>
    public const int MaxLength = 200;

    /// <summary>What every URL-shaped part of a text is replaced with.</summary>
    public const string UrlPlaceholder = "[url]";

    /// <summary>
    /// The text with everything URL-shaped (<c>scheme://…</c> up to the next whitespace) replaced by
    /// <see cref="UrlPlaceholder"/>, control characters turned into spaces (no forged log lines) and the
    /// result cut to <see cref="MaxLength"/> characters.
    /// </summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var redacted = UrlPattern().Replace(text, UrlPlaceholder);
        var builder = new StringBuilder(Math.Min(redacted.Length, MaxLength + 1));
        foreach (var c in redacted)
        {
            if (builder.Length == MaxLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }

    /// <summary>
    /// The label an endpoint gets when none is configured: <c>scheme://host:port</c> only — no user info, path
    /// or query, which is where providers put their keys.
    /// </summary>
    public static string DefaultLabel(Uri endpoint) =>
        endpoint.IsAbsoluteUri ? $"{endpoint.Scheme}://{endpoint.Host}:{endpoint.Port}" : "[relative endpoint]";

    [GeneratedRegex(@"\b[a-z][a-z0-9+.-]*://\S+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();
}
