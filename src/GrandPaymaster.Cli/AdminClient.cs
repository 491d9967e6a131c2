using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrandPaymaster.Cli;

/// <summary>The node's answer: the HTTP status, the JSON as the node wrote it, and the parsed document.</summary>
public sealed record NodeAnswer(int Status, string Raw, JsonElement Json);

/// <summary>One server-sent event (<c>event:</c> name and the joined <c>data:</c> lines).</summary>
public sealed record ServerSentEvent(string Event, string Data);

/// <summary>
/// gpm's only way to the node: the admin API over HTTP with the operator's bearer token. Any answer but 2xx becomes a
/// <see cref="GpmException"/>: a problem+json answer keeps the node's <c>code</c>, <c>detail</c> and field errors; 4xx exits
/// with <see cref="ExitCodes.Refused"/>, 5xx and transport failures with <see cref="ExitCodes.Unavailable"/>.
/// </summary>
public sealed class AdminClient : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions BodyJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly GpmConfig _config;

    public AdminClient(GpmConfig config, HttpMessageHandler? handler = null)
    {
        _config = config;
        // Each request has its own deadline (RequestTimeout); a stream (alerts watch) has none.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: handler is null)
        {
            BaseAddress = config.Url,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("gpm", typeof(AdminClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        if (config.Token is { } token) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Task<NodeAnswer> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<NodeAnswer> PostAsync(string path, object? body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body ?? new { }, ct);

    public Task<NodeAnswer> PutAsync(string path, object body, CancellationToken ct) => SendAsync(HttpMethod.Put, path, body, ct);

    public Task<NodeAnswer> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary><c>path?name=value&amp;…</c> with each value escaped; null or empty values are left out.</summary>
    public static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).ToArray();
        return present.Length == 0
            ? path
            : path + "?" + string.Join("&", present.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}"));
    }

    /// <summary>One path segment (an id typed by the operator), escaped so it cannot reach another route.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    private async Task<NodeAnswer> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Accept.ParseAdd("application/json");
        if (body is not null)
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body, BodyJson), Encoding.UTF8, "application/json");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, deadline.Token);
            var text = await response.Content.ReadAsStringAsync(deadline.Token);
            if (!response.IsSuccessStatusCode) throw Refusal(method, path, response, text);
            return new NodeAnswer((int)response.StatusCode, text, Parse(text, method, path));
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw GpmException.Unreachable($"The node at {_config.Url} did not answer {method} {path} within {RequestTimeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Reads <c>text/event-stream</c> until the node closes it or <paramref name="ct"/> is cancelled.</summary>
    public async IAsyncEnumerable<ServerSentEvent> StreamAsync(string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode) throw Refusal(HttpMethod.Get, path, response, await response.Content.ReadAsStringAsync(ct));
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
            string name = "message";
            var data = new StringBuilder();
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(ct);
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    throw GpmException.Unreachable($"The stream from {_config.Url} broke: {e.Message}");
                }

                if (line is null) yield break;
                if (line.Length == 0)
                {
                    if (data.Length > 0) yield return new ServerSentEvent(name, data.ToString());
                    (name, data) = ("message", data.Clear());
                }
                else if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                    data.Append(data.Length > 0 ? "\n" : "").Append(line[5..].TrimStart(' '));
                // Comments (":keep-alive") and ids are not needed by gpm.
            }
        }
    }

    private GpmException Unreachable(HttpRequestException e) =>
        GpmException.Unreachable($"The node at {_config.Url} could not be reached: {e.Message}");

    private static JsonElement Parse(string text, HttpMethod method, string path)
    {
        if (text.Length == 0) return default;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new GpmException(ExitCodes.Unavailable, "bad_answer", $"The node answered {method} {path} with something that is not JSON.");
        }
    }

    /// <summary>A non-2xx answer as an error: the problem's code and detail when the node sent problem+json.</summary>
    private GpmException Refusal(HttpMethod method, string path, HttpResponseMessage response, string text)
    {
        var status = (int)response.StatusCode;
        var exit = ExitCodes.ForStatus(response.StatusCode);
        string? code = null, detail = null;
        var errors = new Dictionary<string, string[]>();
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                code = String(root, "code");
                detail = String(root, "detail") ?? String(root, "title");
                if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                    foreach (var field in fields.EnumerateObject())
                        errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                            ? field.Value.EnumerateArray().Select(e => e.ToString()).ToArray()
                            : [field.Value.ToString()];
                // Extension members (the timelock's eta, say) are part of the answer.
                foreach (var extra in root.EnumerateObject().Where(p => p.Name is not ("type" or "title" or "status" or "detail" or "code" or "errors" or "traceId")))
                    errors[extra.Name] = [extra.Value.ToString()];
            }
        }
        catch (JsonException)
        {
            // Not JSON: reported below by status.
        }

        // The node answers a route it does not have with not_found / method_not_allowed and "... is not part of this API."
        var routeMissing = response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed
                           && (code is null or "method_not_allowed" || (code == "not_found" && detail?.EndsWith("is not part of this API.", StringComparison.Ordinal) == true));
        var route = $"{method} {path.Split('?')[0]}";
        if (code is null && routeMissing) (code, detail) = ("route_not_found", $"The node at {_config.Url} does not serve {route}.");
        code ??= $"http_{status}";
        detail ??= text.Length > 0 ? Truncate(text, 300) : response.ReasonPhrase ?? "";
        return new GpmException(exit, code, detail, status, errors)
        {
            RouteMissing = routeMissing,
            Hint = routeMissing ? $"The node has no route {route}; it may be older than this gpm."
                : response.StatusCode == HttpStatusCode.Unauthorized && _config.Token is null
                    ? $"No token was given: pass --token, set {GpmConfig.TokenVariable}, or put \"token\" in the config file (~/.config/gpm/config.json)."
                    : null,
        };
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public void Dispose() => _http.Dispose();
}
