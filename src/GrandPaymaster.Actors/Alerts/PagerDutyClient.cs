using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace GrandPaymaster.Actors.Alerts;

/// <summary>
/// Where and how pages go (<c>Gpm:Alerts:Paging:Url</c> / <c>RoutingKey</c>; unset URL: no paging) and the retry bounds of one
/// page (<c>gpm.alerts.paging</c>): at most <see cref="MaxAttempts"/> attempts, exponential backoff with full jitter from
/// <see cref="FirstBackoff"/> up to <see cref="MaxBackoff"/>, each attempt bounded by <see cref="AttemptTimeout"/>.
/// </summary>
public sealed record PagingSettings
{
    public Uri? Url { get; init; }
    public string RoutingKey { get; init; } = "";

    /// <summary>The <c>source</c> of every page (this paymaster's name).</summary>
    public string Source { get; init; } = "grand-paymaster";

    public int MaxAttempts { get; init; } = 5;
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a page the pager did not take (all attempts failed) is tried again, as a new round of attempts.</summary>
    public TimeSpan RetryEvery { get; init; } = TimeSpan.FromMinutes(1);

    public bool Enabled => Url is not null;
}

/// <summary>One PagerDuty Events API v2 event: <c>trigger</c> (with summary, severity, source, details) or <c>resolve</c> (the dedup key only).</summary>
public sealed record PageEvent(string Action, string DedupKey, string Summary = "", string Severity = "critical", IReadOnlyDictionary<string, string>? Details = null,
    DateTimeOffset? Timestamp = null);

/// <summary>How a page ended: delivered (2xx), refused for good (4xx other than 429: retrying cannot help), or failed after every attempt.</summary>
public sealed record PageResult(bool Delivered, bool Permanent, int Attempts, string Detail);

/// <summary>Sends pages; the alert store and the treasury's Orchestrator share it.</summary>
public interface IPager
{
    bool Enabled { get; }

    Task<PageResult> SendAsync(PageEvent page, CancellationToken ct = default);
}

/// <summary>
/// A PagerDuty Events API v2 client (<c>POST {url}</c> with <c>routing_key</c>, <c>event_action</c>, <c>dedup_key</c> and, for a
/// trigger, <c>payload {summary, source, severity, timestamp, custom_details}</c>). Retries transport failures, timeouts, 429 and
/// 5xx with bounded exponential backoff and jitter; PagerDuty de-duplicates by <c>dedup_key</c>, so a retry that did reach it
/// opens no second incident. The routing key is a secret: it never reaches a log line or an answer.
/// </summary>
public sealed class PagerDutyClient(HttpClient http, PagingSettings settings, Random? jitter = null) : IPager
{
    private readonly Random _jitter = jitter ?? Random.Shared;

    public bool Enabled => settings.Enabled;

    public async Task<PageResult> SendAsync(PageEvent page, CancellationToken ct = default)
    {
        if (settings.Url is not { } url) return new PageResult(false, true, 0, "paging is not configured");
        var body = Body(page);
        var detail = "";
        for (var attempt = 1; attempt <= Math.Max(1, settings.MaxAttempts); attempt++)
        {
            if (attempt > 1) await Task.Delay(Backoff(attempt - 1), ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.AttemptTimeout);
            try
            {
                using var response = await http.PostAsJsonAsync(url, body, timeout.Token);
                if (response.IsSuccessStatusCode) return new PageResult(true, false, attempt, $"HTTP {(int)response.StatusCode}");
                detail = $"HTTP {(int)response.StatusCode}";
                if ((int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                    return new PageResult(false, true, attempt, detail);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or OperationCanceledException)
            {
                detail = e is OperationCanceledException ? $"no answer within {settings.AttemptTimeout.TotalSeconds:0.#} s" : e.GetType().Name;
            }
        }

        return new PageResult(false, false, settings.MaxAttempts, detail);
    }

    /// <summary>Equal jitter: between half and all of min(cap, first × 2^(n−1)), so retries of many pages spread out.</summary>
    private TimeSpan Backoff(int retry)
    {
        var ceiling = Math.Min(settings.MaxBackoff.TotalMilliseconds, settings.FirstBackoff.TotalMilliseconds * Math.Pow(2, retry - 1));
        return TimeSpan.FromMilliseconds(ceiling / 2 + _jitter.NextDouble() * ceiling / 2);
    }

    private EventBody Body(PageEvent page) => page.Action == "trigger"
        ? new EventBody(settings.RoutingKey, page.Action, page.DedupKey,
            new Payload(page.Summary.Length <= 1024 ? page.Summary : page.Summary[..1024], settings.Source, page.Severity,
                (page.Timestamp ?? DateTimeOffset.UtcNow).ToString("O"), page.Details))
        : new EventBody(settings.RoutingKey, page.Action, page.DedupKey, null);

    private sealed record EventBody(
        [property: JsonPropertyName("routing_key")] string RoutingKey,
        [property: JsonPropertyName("event_action")] string EventAction,
        [property: JsonPropertyName("dedup_key")] string DedupKey,
        [property: JsonPropertyName("payload"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Payload? Payload);

    private sealed record Payload(
        [property: JsonPropertyName("summary")] string Summary,
        [property: JsonPropertyName("source")] string Source,
        [property: JsonPropertyName("severity")] string Severity,
        [property: JsonPropertyName("timestamp")] string Timestamp,
        [property: JsonPropertyName("custom_details"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? CustomDetails);
}
