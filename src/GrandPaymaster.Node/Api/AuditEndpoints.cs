using System.Globalization;
using Akka.Actor;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Domain.Operators;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The audit log (<c>/admin/v1/audit</c>): every entity's journal, hash-chained per persistence id and checkpointed with a signed
/// key (README "Audit log"). Reading it and verifying it are viewer acts; a verification that finds a problem is itself journaled
/// (<see cref="IOperatorRegistry.RecordActionAsync"/>, action <c>audit.verify</c>).
/// </summary>
public static class AuditEndpoints
{
    private static readonly string[] QueryParameters = ["actor", "entity", "type", "from", "to", "limit", "after"];

    public static void MapAuditAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit", QueryAsync).RequireRole(OperatorRole.Viewer);
        admin.MapGet("/audit/verify", VerifyAsync).RequireRole(OperatorRole.Viewer);
    }

    /// <summary>
    /// Events by actor, entity, type and time, oldest first from the cursor. The journal is read in order from <c>after</c> and
    /// filtered as it streams (no index on these fields): a call reads at most <see cref="AuditQuery.MaxScan"/> rows, and
    /// <c>next</c> continues where it stopped, so a narrow filter over a long journal may answer with few events and a cursor.
    /// </summary>
    /// <summary>
    /// What a scoped operator may read: the journals of its chains' pools and its dApps, nothing else (operators, timelock, denylist
    /// and alerts are everyone's business, so unscoped operators' only).
    /// </summary>
    private static Func<string, bool>? Visible(OperatorScope scope) => scope.IsUnlimited
        ? null
        : persistenceId => persistenceId.StartsWith("dapp-", StringComparison.Ordinal) ? scope.CoversDapp(persistenceId["dapp-".Length..])
            : persistenceId.StartsWith("pool-", StringComparison.Ordinal) && long.TryParse(persistenceId["pool-".Length..], NumberStyles.None,
                CultureInfo.InvariantCulture, out var chain) && scope.CoversChain(chain);

    private static async Task<IResult> QueryAsync(HttpContext http, ActorSystem system)
    {
        var query = http.Request.Query;
        var errors = new Dictionary<string, string[]>();
        foreach (var unknown in query.Keys.Where(k => !QueryParameters.Contains(k)))
            errors[unknown] = ["unknown query parameter"];
        var actor = Text("actor");
        var entity = Text("entity");
        var type = Text("type");
        var from = Time("from");
        var to = Time("to");
        var limit = Number("limit", 1, AuditQuery.MaxLimit) ?? 100;
        var after = Number("after", 0, long.MaxValue) ?? 0;
        if (from is not null && to is not null && to <= from) errors["to"] = ["must be after 'from'"];
        if (errors.Count > 0) return Problems.Invalid(errors);

        var page = await AuditQuery.ReadAsync(system, new AuditFilter(actor, entity, type, from, to, (int)limit, after, Visible(http.Operator().Scope)),
            http.RequestAborted);
        return Results.Json(new
        {
            events = page.Events.Select(e => new
            {
                e.PersistenceId, e.SequenceNr, e.Type, e.At, e.Actor, e.Reason, e.CorrelationId, e.PrevHash, e.Hash, @event = e.Event,
            }),
            next = page.Next?.ToString(CultureInfo.InvariantCulture),
        });

        string? Text(string name)
        {
            var value = query[name].ToString();
            if (value.Length == 0) return null;
            if (query[name].Count > 1 || value.Length > 256 || value.Any(char.IsControl)) errors[name] = ["at most 256 characters, no control characters, given once"];
            return value;
        }

        DateTimeOffset? Time(string name)
        {
            var value = Text(name);
            if (value is null) return null;
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
            errors[name] = ["must be an ISO-8601 time, e.g. 2026-11-25T03:00:00Z"];
            return null;
        }

        long? Number(string name, long min, long max)
        {
            var value = Text(name);
            if (value is null) return null;
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            errors[name] = [$"must be a whole number from {min} to {max}"];
            return null;
        }
    }

    /// <summary>
    /// Walks the whole journal and the signed checkpoints (<see cref="AuditVerifier"/>). One verification runs at a time per node
    /// (another answers 429 with Retry-After). A problem found is journaled as an operator's act, naming the first bad event.
    /// </summary>
    private static async Task<IResult> VerifyAsync(HttpContext http, ActorSystem system, IOperatorRegistry registry, TimeProvider clock)
    {
        var gate = AuditLog.Get(system).Verifying;
        if (!await gate.WaitAsync(0, http.RequestAborted))
            return Problems.Of(StatusCodes.Status429TooManyRequests, "verify_running", "An audit verification is already running on this node.", retryAfterSeconds: 5);
        AuditVerification result;
        try
        {
            result = await new AuditVerifier(system).VerifyAsync(http.RequestAborted);
        }
        finally
        {
            gate.Release();
        }

        if (result.FirstBad is { } bad)
        {
            var reason = $"audit verification found {bad.Code} at {bad.PersistenceId}#{bad.SequenceNr}: {bad.Problem}";
            await registry.RecordActionAsync("audit.verify", $"{bad.PersistenceId}#{bad.SequenceNr}",
                http.OperatorMeta(reason.Length > 256 ? reason[..256] : reason, clock), http.RequestAborted);
        }

        return Results.Json(new
        {
            ok = result.Ok,
            entities = result.Entities,
            events = result.Events,
            legacyEvents = result.LegacyEvents,
            checkpoints = result.Checkpoints,
            snapshots = result.Snapshots,
            firstBad = result.FirstBad is { } f ? new { persistenceId = f.PersistenceId, sequenceNr = f.SequenceNr, code = f.Code, problem = f.Problem } : null,
        });
    }
}
