using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Timelock;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Node.Timelock;
using static GrandPaymaster.Domain.Timelock.TimelockProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The timelock (<c>/admin/v1/timelock</c>): critical changes are scheduled with an eta (a delay per kind), listed, cancelled, and
/// executed once after the eta by the kind's handler (<see cref="ITimelockedChange"/>); the timelock singleton journals each step
/// with who and why, and the executed event records who scheduled it, who executed it, when, and the result.
/// </summary>
public static class TimelockEndpoints
{
    /// <summary>
    /// The bound of an ask to the timelock. The claim's, the handler's and the record's bounds are the execution budget
    /// (<see cref="TimelockExecutionBudget"/>) the claim lease must exceed, checked at start.
    /// </summary>
    private static readonly TimeSpan Timeout = TimelockExecutionBudget.ClaimAnswer;

    /// <summary>An execution runs to its end (and is recorded) even if its caller goes away; this bounds it instead.</summary>
    private static readonly TimeSpan ExecutionTimeout = TimelockExecutionBudget.Apply;

    public static void MapTimelockAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/timelock", ScheduleAsync).RequireRole(OperatorRole.Operator);
        admin.MapGet("/timelock", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/timelock/{changeId}/execute", ExecuteAsync).RequireRole(OperatorRole.Admin);
        admin.MapDelete("/timelock/{changeId}", CancelAsync).RequireRole(OperatorRole.Operator);
    }

    /// <summary><c>{kind, params: {...}, reason}</c> → 201 the scheduled change, with its eta.</summary>
    private static async Task<IResult> ScheduleAsync(HttpContext http, TimelockKinds kinds, IRequiredActor<TimelockSingleton> timelock, IOperatorRegistry registry,
        TimeProvider clock)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("kind", "params", "reason");
        var kindName = body.String("kind", required: true, maxLength: 64);
        var reason = body.String("reason", required: true, maxLength: 256);
        var kind = kindName is null ? null : kinds.Find(kindName);
        if (kindName is not null && kind is null) body.Error("kind", $"must be one of {string.Join(", ", kinds.Names)}");
        var parameters = body.Element("params");
        if (parameters is not { ValueKind: JsonValueKind.Object }) body.Error("params", "is required: an object with the kind's parameters");
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var who = http.Operator();
        if (!who.Roles.Grants(kind!.ScheduleRole))
        {
            var detail = $"Scheduling '{kind.Kind}' needs the '{kind.ScheduleRole.Name()}' role.";
            await registry.RecordRefusalAsync(who.Id, http.Request.Method, "/admin/v1/timelock", RejectionCodes.Forbidden, detail, http.TraceIdentifier, http.RequestAborted);
            return Problems.Of(StatusCodes.Status403Forbidden, RejectionCodes.Forbidden, detail);
        }

        var request = JsonRequest.Of(parameters!.Value);
        var check = await kind.CheckAsync(request, http.RequestAborted);
        if (!request.IsValid) return Problems.Invalid(request.Errors.ToDictionary(e => $"params.{e.Key}", e => e.Value));
        if (check.Problem is not null) return check.Problem;

        var paramsJson = JsonSerializer.Serialize(check.Params, JsonSerializerOptions.Web);
        var (change, refused) = await AskAsync<TimelockChange>(http, timelock,
            new ScheduleChange(kind.Kind, paramsJson, check.Subject, http.OperatorMeta(reason!, clock)), http.RequestAborted);
        return refused ?? Results.Json(Json(change!), statusCode: StatusCodes.Status201Created);
    }

    /// <summary><c>?status=scheduled|cancelled|executed|expired</c> → <c>{changes:[...]}</c> in the order they were scheduled.</summary>
    private static async Task<IResult> ListAsync(HttpContext http, IRequiredActor<TimelockSingleton> timelock)
    {
        var text = http.Request.Query["status"].ToString();
        TimelockStatus? status = null;
        if (text.Length > 0)
        {
            if (!Enum.TryParse<TimelockStatus>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || text.Any(char.IsDigit))
                return Problems.Invalid(new Dictionary<string, string[]> { ["status"] = ["must be one of scheduled, cancelled, executed, expired"] });
            status = parsed;
        }

        var (changes, refused) = await AskAsync<Changes>(http, timelock, new GetChanges(status), http.RequestAborted);
        return refused ?? Results.Json(new { changes = changes!.Items.Select(Json) });
    }

    /// <summary>
    /// <c>{reason?}</c> → 200 the executed change with its result; 425 <c>timelock_not_ready</c> (with <c>eta</c>) before the eta;
    /// 409/410 when it was executed, cancelled or expired. A failure to apply it (502 <c>timelock_execution_failed</c>) or a change
    /// overtaken since it was scheduled (409 <c>timelock_stale</c>) is journaled and leaves it scheduled.
    /// </summary>
    private static async Task<IResult> ExecuteAsync(HttpContext http, string changeId, TimelockKinds kinds, IRequiredActor<TimelockSingleton> timelock,
        TimeProvider clock, ILoggerFactory logs)
    {
        if (!ValidId(changeId)) return NotFound(changeId);
        var (body, problem) = await JsonRequest.ReadAsync(http, allowEmpty: true);
        if (problem is not null) return problem;
        body!.Allow("reason");
        var note = body.String("reason", required: false, maxLength: 256);
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var (change, refused) = await AskAsync<TimelockChange>(http, timelock, new ClaimExecution(changeId, http.OperatorMeta(note ?? "execute", clock)),
            http.RequestAborted);
        if (refused is not null) return refused;

        // From the claim on, the execution is carried to its record even if the caller goes away; the handler is bounded by
        // ExecutionTimeout, the record by the ask's own timeout.
        using var bounded = new CancellationTokenSource(ExecutionTimeout);
        var region = await timelock.GetAsync(bounded.Token);
        var meta = new Meta(clock.GetUtcNow(), http.Operator().Actor,
            $"timelock {change!.Id} ({change.Kind}, scheduled by {change.ScheduledBy}: {change.Reason}){(note is null ? "" : $"; executed: {note}")}", change.Id);
        string? result = null, error, code = null;
        try
        {
            var kind = kinds.Find(change.Kind) ?? throw new TimelockExecutionException($"This node has no handler for '{change.Kind}'.");
            using var parameters = JsonDocument.Parse(change.ParamsJson);
            result = await kind.ExecuteAsync(parameters.RootElement, change, meta, bounded.Token);
            error = null;
        }
        catch (TimelockExecutionException e)
        {
            error = e.Message;
            code = e.Code;
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested)
        {
            error = $"not applied within {ExecutionTimeout.TotalSeconds:0} s";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logs.CreateLogger(typeof(TimelockEndpoints)).LogError(e, "Executing timelocked change {ChangeId} ({Kind}) failed", change.Id, change.Kind);
            error = $"unexpected {e.GetType().Name}; see the node's log";
        }

        if (error is not null)
        {
            // Journaled either way (who tried, why it did not apply); the change stays scheduled until cancelled or expired.
            await AskAsync<TimelockChange>(http, timelock, new FailExecution(change.Id, code is null ? error : $"{code}: {error}", meta), CancellationToken.None, region,
                TimelockExecutionBudget.Record);
            return code == TimelockCodes.Stale
                ? Problems.Of(StatusCodes.Status409Conflict, TimelockCodes.Stale, $"{change.Id} ({change.Kind}) was not applied: {error}")
                : Problems.Of(StatusCodes.Status502BadGateway, "timelock_execution_failed",
                    $"{change.Id} ({change.Kind}) could not be applied: {error}. It stays scheduled; execute it again.");
        }

        var (executed, failed) = await AskAsync<TimelockChange>(http, timelock, new CompleteExecution(change.Id, result!, meta), CancellationToken.None, region,
            TimelockExecutionBudget.Record);
        return failed ?? Results.Json(Json(executed!));
    }

    /// <summary><c>?reason=</c> → 200 the cancelled change.</summary>
    private static async Task<IResult> CancelAsync(HttpContext http, string changeId, IRequiredActor<TimelockSingleton> timelock, TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        var reason = AdminEndpoints.QueryReason(http, errors);
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (!ValidId(changeId)) return NotFound(changeId);
        var (change, refused) = await AskAsync<TimelockChange>(http, timelock, new CancelChange(changeId, http.OperatorMeta(reason, clock)), http.RequestAborted);
        return refused ?? Results.Json(Json(change!));
    }

    private static async Task<(T? Reply, IResult? Problem)> AskAsync<T>(HttpContext http, IRequiredActor<TimelockSingleton> timelock, ITimelockCommand command,
        CancellationToken ct, IActorRef? region = null, TimeSpan? timeout = null) where T : class
    {
        timeout ??= Timeout;
        try
        {
            var reply = await (region ?? await timelock.GetAsync(ct)).Ask<object>(command, timeout, ct);
            return reply switch
            {
                T typed => (typed, null),
                Refused refused => (null, Refusal(refused)),
                _ => (null, Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", $"Unexpected answer {reply.GetType().Name}.")),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"The timelock did not answer within {timeout.Value.TotalSeconds:0} s; the request may still complete."));
        }
    }

    private static IResult Refusal(Refused refused)
    {
        var status = refused.Code switch
        {
            TimelockCodes.NotFound => StatusCodes.Status404NotFound,
            TimelockCodes.NotReady => 425 /* Too Early: executable from the eta */,
            TimelockCodes.Expired => StatusCodes.Status410Gone,
            _ => StatusCodes.Status409Conflict,
        };
        if (refused.Eta is not { } eta) return Problems.Of(status, refused.Code, refused.Message);
        return new NotReadyResult(status, refused, eta);
    }

    /// <summary>425 with the eta in the problem body and <c>Retry-After</c> (whole seconds until the eta).</summary>
    private sealed class NotReadyResult(int status, Refused refused, DateTimeOffset eta) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var clock = http.RequestServices.GetRequiredService<TimeProvider>();
            var seconds = Math.Max(1, (long)Math.Ceiling((eta - clock.GetUtcNow()).TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new
            {
                type = $"https://grand-paymaster.dev/problems/{refused.Code}",
                title = "Timelock not ready",
                status,
                detail = refused.Message,
                code = refused.Code,
                eta,
            }, contentType: Problems.ContentType, statusCode: status).ExecuteAsync(http);
        }
    }

    internal static object Json(TimelockChange change)
    {
        using var parameters = JsonDocument.Parse(change.ParamsJson);
        return new
        {
            id = change.Id,
            kind = change.Kind,
            @params = parameters.RootElement.Clone(),
            subject = change.Subject,
            reason = change.Reason,
            scheduledBy = change.ScheduledBy,
            scheduledAt = change.ScheduledAt,
            eta = change.Eta,
            expiresAt = change.ExpiresAt,
            status = change.Status.ToString().ToLowerInvariant(),
            executedBy = change.ExecutedBy,
            executedAt = change.ExecutedAt,
            result = change.Result,
            cancelledBy = change.CancelledBy,
            cancelledAt = change.CancelledAt,
            cancelReason = change.CancelReason,
            expiredAt = change.ExpiredAt,
            failedAttempts = change.FailedAttempts,
            lastError = change.LastError,
        };
    }

    /// <summary>Change ids are <c>tl-&lt;n&gt;</c>: anything else is answered 404 without asking the singleton.</summary>
    private static bool ValidId(string changeId) => changeId.Length is > 3 and <= 24 && changeId.StartsWith("tl-", StringComparison.Ordinal) && changeId[3..].All(char.IsAsciiDigit);

    private static IResult NotFound(string changeId) =>
        Problems.Of(StatusCodes.Status404NotFound, TimelockCodes.NotFound, $"The timelock has no change {(ValidId(changeId) ? changeId : "with that id")}.");
}
