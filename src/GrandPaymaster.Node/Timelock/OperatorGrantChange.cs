using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Node.Api;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Node.Timelock;

/// <summary>
/// <c>operator.grant {operatorId, roles}</c>: adds roles to an existing, active operator; the only way to grant
/// <c>admin</c> or <c>approver</c> after the bootstrap's first admin. Scheduled by an admin; the registry journals the grant.
/// </summary>
public sealed class OperatorGrantChange(IRequiredActor<OperatorRegistrySingleton> registry, IOperatorRegistry operators) : ITimelockedChange
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public string Kind => "operator.grant";

    public OperatorRole ScheduleRole => OperatorRole.Admin;

    public async Task<TimelockCheck> CheckAsync(JsonRequest parameters, CancellationToken ct)
    {
        parameters.Allow("operatorId", "roles");
        var id = parameters.String("operatorId", required: true, maxLength: 64);
        var roles = OperatorEndpoints.Roles(parameters);
        if (id is not null && !OperatorRegistryState.IsValidId(id)) parameters.Error("operatorId", "is not an operator id");
        if (!parameters.IsValid) return TimelockCheck.Invalid;
        var known = await (await registry.GetAsync(ct)).Ask<Operators>(ListOperators.Instance, Timeout, ct);
        return known.Items.Any(o => o.Id == id && o.RevokedAt is null)
            ? TimelockCheck.Valid(new { operatorId = id, roles = roles!.Value.Select(r => r.Name()).ToArray() }, $"operator {id}")
            : TimelockCheck.Refuse(Problems.Of(StatusCodes.Status404NotFound, OperatorRegistryState.OperatorNotFound, $"No active operator '{id}'."));
    }

    public async Task<string> ExecuteAsync(JsonElement parameters, TimelockChange change, Meta meta, CancellationToken ct)
    {
        var id = parameters.GetProperty("operatorId").GetString()!;
        var roles = parameters.GetProperty("roles").EnumerateArray()
            .Select(r => OperatorRoles.TryParse(r.GetString(), out var role) ? role : throw new TimelockExecutionException($"Unknown role '{r}'."))
            .ToImmutableArray();
        OperatorAnswer answer;
        try
        {
            answer = await (await registry.GetAsync(ct)).Ask<OperatorAnswer>(new GrantRoles(id, roles, meta), Timeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new TimelockExecutionException($"The operator registry did not answer within {Timeout.TotalSeconds:0} s.");
        }

        if (answer.Refused is { } refused) throw new TimelockExecutionException($"{refused.Code}: {refused.Message}");
        operators.Forget();
        return $"operator {id} holds {string.Join(", ", answer.Operator!.Roles.Select(r => r.Name()))}";
    }
}
