using System.Text.Json;
using GrandPaymaster.Actors.Timelock;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Node.Api;

namespace GrandPaymaster.Node.Timelock;

/// <summary>
/// One kind of timelocked change (<c>chain.disable</c>, <c>dapp.surcharge</c>, …): it checks the parameters when the change is
/// scheduled and applies them when it is executed, after the eta. Adding a kind is one class implementing this interface and
/// one line registering it (<see cref="TimelockServices.AddTimelockedChange{T}"/>); its delay is <c>gpm.timelock.delays."kind"</c>
/// (else the default delay).
/// </summary>
public interface ITimelockedChange
{
    /// <summary>The kind's name in the API and the journal, e.g. <c>chain.disable</c>.</summary>
    string Kind { get; }

    /// <summary>The role needed to schedule this kind (the route itself needs <c>operator</c>; a role grant may ask for <c>admin</c>).</summary>
    OperatorRole ScheduleRole => OperatorRole.Operator;

    /// <summary>
    /// Reads and checks <c>params</c> when the change is scheduled: field errors go into <paramref name="parameters"/> (answered
    /// 400 <c>invalid_request</c>); a refusal that is not about one field (unknown chain or dApp) is <see cref="TimelockCheck.Problem"/>.
    /// The parameters kept are <see cref="TimelockCheck.Params"/> (serialized to JSON), not the caller's body.
    /// </summary>
    Task<TimelockCheck> CheckAsync(JsonRequest parameters, CancellationToken ct);

    /// <summary>
    /// Applies the change (the parameters as <see cref="CheckAsync"/> kept them; <paramref name="change"/> is the scheduled change,
    /// e.g. for when it was scheduled) with <paramref name="meta"/> — the executing operator, and the change's id as correlation —
    /// on the events it causes. Returns what it did, in words; throws <see cref="TimelockExecutionException"/> when it could not
    /// (the change stays scheduled; with <see cref="TimelockCodes.Stale"/> it was overtaken and executing it again will not help).
    /// Applying twice must do no harm (an execution interrupted before it was recorded is run again).
    /// </summary>
    Task<string> ExecuteAsync(JsonElement parameters, TimelockChange change, Meta meta, CancellationToken ct);
}

/// <summary>The outcome of <see cref="ITimelockedChange.CheckAsync"/>: the parameters to keep and what they touch, or a problem.</summary>
public sealed record TimelockCheck(object? Params, string Subject, IResult? Problem = null)
{
    public static TimelockCheck Valid(object parameters, string subject) => new(parameters, subject);

    public static TimelockCheck Refuse(IResult problem) => new(null, "", problem);

    /// <summary>The field errors are in the request; nothing more to say.</summary>
    public static readonly TimelockCheck Invalid = new(null, "");
}

/// <summary>
/// A timelocked change could not be applied; <see cref="Exception.Message"/> is safe to journal and to show. <see cref="Code"/>
/// is null for a failure worth retrying (answered 502 <c>timelock_execution_failed</c>), or <see cref="TimelockCodes.Stale"/>
/// for a change that was overtaken (409).
/// </summary>
public sealed class TimelockExecutionException(string message, string? code = null) : Exception(message)
{
    public string? Code { get; } = code;
}

/// <summary>The kinds this node can schedule and execute, by name (a kind registered twice stops the node at start).</summary>
public sealed class TimelockKinds
{
    private readonly Dictionary<string, ITimelockedChange> _kinds;

    public TimelockKinds(IEnumerable<ITimelockedChange> changes)
    {
        _kinds = new Dictionary<string, ITimelockedChange>(StringComparer.Ordinal);
        foreach (var change in changes)
            if (!_kinds.TryAdd(change.Kind, change))
                throw new InvalidOperationException($"Timelocked change kind '{change.Kind}' is registered twice ({_kinds[change.Kind].GetType().Name}, {change.GetType().Name}).");
    }

    public IReadOnlyCollection<string> Names => _kinds.Keys.Order(StringComparer.Ordinal).ToArray();

    public ITimelockedChange? Find(string kind) => _kinds.GetValueOrDefault(kind);
}

/// <summary>The operator's overlay over <c>hocon/timelock.hocon</c> (<c>Gpm:Timelock:Hocon</c>).</summary>
public sealed class TimelockOptions
{
    public string Hocon { get; set; } = "";
}

/// <summary>Registers the timelock's settings and its kinds of change.</summary>
public static class TimelockServices
{
    /// <summary>The policy (<c>hocon/timelock.hocon</c> under <c>Gpm:Timelock:Hocon</c>) and the built-in kinds: chain.disable, chain.enable, dapp.surcharge, operator.grant, vault.limit.</summary>
    public static IServiceCollection AddTimelockedChanges(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimelockHocon.Load(configuration.GetSection("Gpm:Timelock").Get<TimelockOptions>()?.Hocon ?? ""));
        services.AddSingleton<TimelockKinds>();
        return services
            .AddTimelockedChange<ChainDisableChange>()
            .AddTimelockedChange<ChainEnableChange>()
            .AddTimelockedChange<DappSurchargeChange>()
            .AddTimelockedChange<OperatorGrantChange>()
            .AddTimelockedChange<VaultLimitChange>();
    }

    /// <summary>Adds one kind of timelocked change.</summary>
    public static IServiceCollection AddTimelockedChange<T>(this IServiceCollection services) where T : class, ITimelockedChange =>
        services.AddSingleton<ITimelockedChange, T>();
}
