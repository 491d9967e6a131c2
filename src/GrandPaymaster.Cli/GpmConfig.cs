using System.Text.Json;

namespace GrandPaymaster.Cli;

/// <summary>
/// Where gpm finds the node and its token. Each setting is taken from the first of: the flag (<c>--url</c>, <c>--token</c>),
/// the environment (<c>GPM_URL</c>, <c>GPM_TOKEN</c>), the config file (<c>--config</c>, else <c>GPM_CONFIG</c>, else
/// <c>~/.config/gpm/config.json</c>: <c>{"url": "...", "token": "..."}</c>); the URL defaults to <see cref="DefaultUrl"/>.
/// </summary>
public sealed record GpmConfig(Uri Url, string? Token, string UrlSource, string TokenSource)
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string UrlVariable = "GPM_URL";
    public const string TokenVariable = "GPM_TOKEN";
    public const string ConfigVariable = "GPM_CONFIG";

    public static string DefaultPath(CliEnvironment env) => Path.Combine(env.HomeDirectory, ".config", "gpm", "config.json");

    /// <exception cref="GpmException">A named config file is missing or unreadable, or the URL is not an http(s) URL (usage error).</exception>
    public static GpmConfig Resolve(string? urlFlag, string? tokenFlag, string? configFlag, CliEnvironment env)
    {
        var (fileUrl, fileToken, path) = ReadFile(configFlag, env);
        var (url, urlSource) = First((urlFlag, "--url"), (env.Variable(UrlVariable), UrlVariable), (fileUrl, path), (DefaultUrl, "default"));
        var (token, tokenSource) = First((tokenFlag, "--token"), (env.Variable(TokenVariable), TokenVariable), (fileToken, path), (null, "none"));
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw GpmException.Usage($"The node URL '{url}' (from {urlSource}) is not an http:// or https:// URL.");
        return new GpmConfig(uri, token, urlSource, tokenSource);
    }

    private static (string? Value, string Source) First(params (string? Value, string Source)[] candidates) =>
        candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c.Value), candidates[^1]);

    private static (string? Url, string? Token, string Path) ReadFile(string? configFlag, CliEnvironment env)
    {
        var named = configFlag ?? env.Variable(ConfigVariable);
        var path = named ?? DefaultPath(env);
        if (!File.Exists(path))
        {
            // The default file is optional; a file the operator named must be there.
            if (named is not null) throw GpmException.Usage($"The config file '{path}' does not exist.");
            return (null, null, path);
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("the file is not a JSON object");
            return (Text(document.RootElement, "url"), Text(document.RootElement, "token"), path);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw GpmException.Usage($"The config file '{path}' is not readable as {{\"url\": \"...\", \"token\": \"...\"}}: {e.Message}");
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw new InvalidOperationException($"'{name}' must be a string"),
        } : null;
}
