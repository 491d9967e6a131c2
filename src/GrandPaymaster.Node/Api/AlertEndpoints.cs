using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Domain.Alerts;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Slo;
using GrandPaymaster.Node.Alerts;
using static GrandPaymaster.Domain.Alerts.AlertProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Alerts and SLOs (<c>/admin/v1/alerts</c>, <c>/admin/v1/slo</c>): list, acknowledge (journaled with the operator and the reason),
/// a server-sent event stream of every raise, repeat, acknowledge and resolve, and the SLOs' error-budget burn on this node.
/// </summary>
public static class AlertEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapAlertAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/alerts", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/alerts/{alertId}/ack", AcknowledgeAsync).RequireRole(OperatorRole.Operator);
        admin.MapGet("/alerts/stream", StreamAsync).RequireRole(OperatorRole.Viewer);
        admin.MapGet("/slo", Slo).RequireRole(OperatorRole.Viewer);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IRequiredActor<AlertsSingleton> store)
    {
        var stateText = http.Request.Query["state"].ToString();
        AlertState? state = stateText switch
        {
            "" or "all" => null,
            "open" => AlertState.Open,
            "acknowledged" => AlertState.Acknowledged,
            "resolved" => AlertState.Resolved,
            _ => (AlertState)(-1),
        };
        if (state == (AlertState)(-1))
            return Problems.Invalid(new Dictionary<string, string[]> { ["state"] = ["must be one of open, acknowledged, resolved, all"] });
        var (list, refused) = await EdgeAsk.AskAsync<AlertList>(await store.GetAsync(http.RequestAborted), new GetAlerts(state), Timeout, http.RequestAborted);
        return refused ?? Results.Json(new { alerts = list!.Alerts.Select(View) });
    }

    /// <summary><c>{reason?}</c>: the operator acknowledges the alert (journaled); again on an acknowledged one changes nothing.</summary>
    private static async Task<IResult> AcknowledgeAsync(HttpContext http, string alertId, IRequiredActor<AlertsSingleton> store, TimeProvider clock)
    {
        if (alertId.Length > 40 || !alertId.StartsWith("alert-", StringComparison.Ordinal) || !alertId[6..].All(char.IsAsciiDigit) || alertId.Length == 6)
            return NotFound(alertId);
        var (body, problem) = await JsonRequest.ReadAsync(http, allowEmpty: true);
        if (problem is not null) return problem;
        body!.Allow("reason");
        var reason = body.String("reason", required: false, maxLength: 256) ?? "acknowledged";
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        object reply;
        try
        {
            reply = await (await store.GetAsync(http.RequestAborted)).Ask<object>(new AcknowledgeAlert(alertId, http.OperatorMeta(reason, clock)), Timeout,
                http.RequestAborted);
        }
        catch (AskTimeoutException)
        {
            return Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"No answer within {Timeout.TotalSeconds:0} s; the acknowledgement may still apply.");
        }

        return reply switch
        {
            Alert alert => Results.Json(View(alert)),
            NoAlert { Code: AlertsState.AlreadyResolved } no => Problems.Of(StatusCodes.Status409Conflict, no.Code, no.Detail),
            NoAlert no => Problems.Of(StatusCodes.Status404NotFound, AlertsState.NotFound, no.Detail),
            _ => Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", "Unexpected answer."),
        };
    }

    /// <summary>
    /// <c>text/event-stream</c>: one <c>event: alert</c> per change, its <c>data</c> the alert with <c>change</c> (raise, repeat, ack,
    /// resolve); a comment every keep-alive period. A client that falls a whole buffer behind is dropped; beyond the stream bound: 503.
    /// </summary>
    private static async Task<IResult> StreamAsync(HttpContext http, AlertStreamHub hub, IHostApplicationLifetime lifetime)
    {
        using var subscription = hub.TrySubscribe();
        if (subscription is null)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "too_many_streams",
                $"This node serves at most {hub.Settings.MaxStreams} alert streams at once; try again later or list the alerts.", retryAfterSeconds: 30);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await response.WriteAsync(": alerts of this paymaster; list them with GET /admin/v1/alerts\n\n", ct);
            await response.Body.FlushAsync(ct);
            var reader = subscription.Reader;
            while (!ct.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(hub.Settings.KeepAlive);
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    continue;
                }

                if (!more)
                {
                    if (subscription.Dropped)
                        await response.WriteAsync("event: dropped\ndata: {\"reason\":\"this client fell behind; list the alerts and reconnect\"}\n\n", ct);
                    break;
                }

                while (reader.TryRead(out var change))
                {
                    var data = JsonSerializer.Serialize(View(change.Alert, change.Change), Json);
                    await response.WriteAsync($"event: alert\ndata: {data}\n\n", ct);
                }

                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
            // the client went, or the node stops
        }

        return Results.Empty;
    }

    private static IResult Slo(SloBook slos, TimeProvider clock) =>
        Results.Json(new
        {
            slos = slos.Report(clock.GetUtcNow()).Select(r => new
            {
                name = r.Definition.Name,
                objective = r.Definition.Objective,
                description = r.Definition.Description,
                windows = SloBook.Reported.ToDictionary(w => w, w =>
                {
                    var figures = r.Windows[w];
                    return new
                    {
                        sli = figures.Sli,
                        burnRate = figures.BurnRate(r.Definition.ErrorBudget),
                        budgetRemaining = figures.BudgetRemaining(r.Definition.ErrorBudget),
                        good = figures.Good,
                        total = figures.Total,
                    };
                }),
                status = r.Status,
            }),
            note = "Counted in memory on this node since it started (1-minute buckets over 6 h, 1-hour buckets over 30 d); no_data: no events yet.",
        });

    internal static object View(Alert alert) => View(alert, null);

    private static object View(Alert alert, string? change) => new
    {
        id = alert.Id,
        kind = alert.Kind,
        severity = AlertsState.Name(alert.Severity),
        subject = alert.Subject,
        summary = alert.Summary,
        firstAt = alert.FirstAt,
        lastAt = alert.LastAt,
        count = alert.Count,
        state = AlertsState.Name(alert.State),
        acknowledgedBy = alert.AcknowledgedBy,
        acknowledgedAt = alert.AcknowledgedAt,
        resolvedBy = alert.ResolvedBy,
        resolvedAt = alert.ResolvedAt,
        change,
    };

    private static IResult NotFound(string alertId) =>
        Problems.Of(StatusCodes.Status404NotFound, AlertsState.NotFound, $"Alert {(alertId.Length > 40 ? alertId[..40] + "…" : alertId)} does not exist.");
}
