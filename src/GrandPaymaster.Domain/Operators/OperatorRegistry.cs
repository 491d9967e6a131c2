using System.Collections.Immutable;
using System.Text.RegularExpressions;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Domain.Operators;

/// <summary>
/// One operator as the registry keeps it: roles, scope, the SHA-256 of its token (never the token), who created it and when,
/// expiry and revocation. Revoked operators stay (the journal names them); their ids are never reused.
/// </summary>
public sealed record OperatorRecord(
    string Id,
    ImmutableArray<OperatorRole> Roles,
    OperatorScope Scope,
    string TokenHash,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt = null,
    string? RevokedBy = null) : IPaymasterMessage
{
    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;

    public string StatusAt(DateTimeOffset now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";
}

/// <summary>Commands, replies and events of the operator registry (one persistent singleton, persistence id <c>operators</c>).</summary>
public static class OperatorProtocol
{
    public interface IOperatorCommand : IPaymasterMessage;

    /// <summary>
    /// Creates an operator. <paramref name="ByBootstrap"/>: the configured bootstrap token asks, which may only create the first
    /// admin. Granting <see cref="OperatorRole.Admin"/> or <see cref="OperatorRole.Approver"/> otherwise goes through the timelock
    /// (<see cref="GrantRoles"/>), so a stolen admin token cannot mint a second approver at once.
    /// </summary>
    public sealed record CreateOperator(string Id, ImmutableArray<OperatorRole> Roles, OperatorScope Scope, string TokenHash, DateTimeOffset ExpiresAt,
        Meta Meta, bool ByBootstrap = false) : IOperatorCommand;

    /// <summary>Adds roles to an existing operator: what a timelocked <c>operator.grant</c> executes.</summary>
    public sealed record GrantRoles(string Id, ImmutableArray<OperatorRole> Roles, Meta Meta) : IOperatorCommand;

    public sealed record RevokeOperator(string Id, Meta Meta) : IOperatorCommand;

    /// <summary>A new token (and expiry) for an active operator; the old token is refused from then on.</summary>
    public sealed record RotateToken(string Id, string TokenHash, DateTimeOffset ExpiresAt, Meta Meta) : IOperatorCommand;

    /// <summary>The operator holding the token whose SHA-256 is <paramref name="TokenHash"/>; answered with <see cref="Authenticated"/>.</summary>
    public sealed record Authenticate(string TokenHash) : IOperatorCommand;

    /// <summary>A refused request of a known operator (role, scope, revoked or expired token), for the audit log.</summary>
    public sealed record RecordRefusal(string OperatorId, string Method, string Route, string Code, string Detail, Meta Meta) : IOperatorCommand;

    /// <summary>An operator's act that has no entity of its own (cluster membership, audit verification), for the audit log.</summary>
    public sealed record RecordAction(string Action, string Subject, Meta Meta) : IOperatorCommand;

    public sealed record ListOperators : IOperatorCommand
    {
        public static readonly ListOperators Instance = new();
    }

    /// <summary><paramref name="Operator"/> is null for an unknown token; <paramref name="BootstrapOpen"/>: no admin was ever created.</summary>
    public sealed record Authenticated(OperatorRecord? Operator, bool BootstrapOpen) : IPaymasterMessage;

    public sealed record Operators(ImmutableList<OperatorRecord> Items) : IPaymasterMessage;

    public sealed record OperatorAnswer(OperatorRecord? Operator, Rejection? Refused) : IPaymasterMessage;

    public sealed record Recorded : IPaymasterMessage
    {
        public static readonly Recorded Instance = new();
    }

    public sealed record OperatorCreated(OperatorRecord Operator, Meta Meta) : IPaymasterMessage;

    public sealed record RolesGranted(string Id, ImmutableArray<OperatorRole> Roles, Meta Meta) : IPaymasterMessage;

    public sealed record OperatorRevoked(string Id, Meta Meta) : IPaymasterMessage;

    public sealed record TokenRotated(string Id, string TokenHash, DateTimeOffset ExpiresAt, Meta Meta) : IPaymasterMessage;

    public sealed record AccessRefused(string OperatorId, string Method, string Route, string Code, string Detail, Meta Meta) : IPaymasterMessage;

    public sealed record OperatorActed(string Action, string Subject, Meta Meta) : IPaymasterMessage;
}

/// <summary>The operators, pure: decisions (reply and event) and application of events; the singleton persists the events.</summary>
public sealed record OperatorRegistryState(ImmutableDictionary<string, OperatorRecord> ById, ImmutableDictionary<string, string> IdByTokenHash, bool AdminEverCreated)
    : IPaymasterMessage
{
    /// <summary>Operators are created by admins only; the bound keeps a mistake (a script in a loop) from growing the registry without end.</summary>
    public const int MaxOperators = 1_000;

    public const string OperatorExists = "operator_exists";
    public const string OperatorNotFound = "operator_not_found";
    public const string BootstrapClosed = "bootstrap_closed";
    public const string LastAdmin = "last_admin";
    public const string TimelockRequired = "timelock_required";
    public const string RegistryFull = "operator_registry_full";

    private static readonly Regex IdPattern = new("^[a-z0-9][a-z0-9._-]{0,63}$", RegexOptions.CultureInvariant);

    public static readonly OperatorRegistryState Empty =
        new(ImmutableDictionary<string, OperatorRecord>.Empty, ImmutableDictionary<string, string>.Empty, false);

    /// <summary>The id the bootstrap token acts as in events; no operator may take it.</summary>
    public const string BootstrapId = "bootstrap";

    public static bool IsValidId(string? id) => id is not null && IdPattern.IsMatch(id) && id != BootstrapId;

    /// <summary>Roles that only the timelock may grant (after the bootstrap's first admin).</summary>
    public static bool IsPrivileged(OperatorRole role) => role is OperatorRole.Admin or OperatorRole.Approver;

    public OperatorRecord? ByToken(string tokenHash) => IdByTokenHash.TryGetValue(tokenHash, out var id) ? ById[id] : null;

    public (OperatorProtocol.OperatorAnswer Reply, IPaymasterMessage? Event) Decide(OperatorProtocol.CreateOperator command)
    {
        if (!IsValidId(command.Id)) return Refuse(RejectionCodes.InvalidRequest, "The operator id must be 1–64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit, and not 'bootstrap'.");
        if (command.Roles.IsDefaultOrEmpty) return Refuse(RejectionCodes.InvalidRequest, "An operator needs at least one role.");
        if (command.ByBootstrap)
        {
            if (AdminEverCreated) return Refuse(BootstrapClosed, "The bootstrap token only creates the first admin; that admin exists. Use an admin's token.");
            if (command.Roles is not [OperatorRole.Admin] || !command.Scope.IsUnlimited)
                return Refuse(RejectionCodes.InvalidRequest, "The bootstrap token creates exactly one operator: an unscoped admin (roles: [\"admin\"]).");
        }
        else if (command.Roles.Where(IsPrivileged).Select(r => (OperatorRole?)r).FirstOrDefault() is { } privileged)
            return Refuse(TimelockRequired,
                $"Granting '{privileged.Name()}' is a timelocked change: create the operator with lesser roles, then schedule kind 'operator.grant'.");

        if (ById.ContainsKey(command.Id)) return Refuse(OperatorExists, $"Operator '{command.Id}' exists (ids of revoked operators are not reused).");
        if (ById.Count >= MaxOperators) return Refuse(RegistryFull, $"The registry holds {MaxOperators} operators; revoke before creating more.");
        var record = new OperatorRecord(command.Id, command.Roles.Distinct().Order().ToImmutableArray(), command.Scope, command.TokenHash, command.Meta.At,
            command.Meta.Actor, command.ExpiresAt);
        return (new OperatorProtocol.OperatorAnswer(record, null), new OperatorProtocol.OperatorCreated(record, command.Meta));
    }

    public (OperatorProtocol.OperatorAnswer Reply, IPaymasterMessage? Event) Decide(OperatorProtocol.GrantRoles command)
    {
        if (!ById.TryGetValue(command.Id, out var record) || !record.IsActiveAt(command.Meta.At))
            return Refuse(OperatorNotFound, $"No active operator '{command.Id}'.");
        if (command.Roles.IsDefaultOrEmpty) return Refuse(RejectionCodes.InvalidRequest, "Name at least one role to grant.");
        var roles = record.Roles.Union(command.Roles).Order().ToImmutableArray();
        if (roles.SequenceEqual(record.Roles)) return (new OperatorProtocol.OperatorAnswer(record, null), null);
        var granted = new OperatorProtocol.RolesGranted(command.Id, roles, command.Meta);
        return (new OperatorProtocol.OperatorAnswer(record with { Roles = roles }, null), granted);
    }

    public (OperatorProtocol.OperatorAnswer Reply, IPaymasterMessage? Event) Decide(OperatorProtocol.RevokeOperator command)
    {
        if (!ById.TryGetValue(command.Id, out var record)) return Refuse(OperatorNotFound, $"No operator '{command.Id}'.");
        if (record.RevokedAt is not null) return (new OperatorProtocol.OperatorAnswer(record, null), null);
        if (record.Roles.Contains(OperatorRole.Admin) && record.IsActiveAt(command.Meta.At) &&
            !ById.Values.Any(o => o.Id != record.Id && o.Roles.Contains(OperatorRole.Admin) && o.IsActiveAt(command.Meta.At)))
            return Refuse(LastAdmin, "This is the last active admin; create (and timelock-grant) another admin before revoking it.");
        return (new OperatorProtocol.OperatorAnswer(record with { RevokedAt = command.Meta.At, RevokedBy = command.Meta.Actor }, null),
            new OperatorProtocol.OperatorRevoked(command.Id, command.Meta));
    }

    public (OperatorProtocol.OperatorAnswer Reply, IPaymasterMessage? Event) Decide(OperatorProtocol.RotateToken command)
    {
        if (!ById.TryGetValue(command.Id, out var record) || !record.IsActiveAt(command.Meta.At))
            return Refuse(OperatorNotFound, $"No active operator '{command.Id}' (a revoked or expired operator gets no new token; create another).");
        if (IdByTokenHash.ContainsKey(command.TokenHash)) return Refuse(RejectionCodes.InvalidRequest, "That token is in use.");
        return (new OperatorProtocol.OperatorAnswer(record with { TokenHash = command.TokenHash, ExpiresAt = command.ExpiresAt }, null),
            new OperatorProtocol.TokenRotated(command.Id, command.TokenHash, command.ExpiresAt, command.Meta));
    }

    public OperatorRegistryState Apply(IPaymasterMessage e) => e switch
    {
        OperatorProtocol.OperatorCreated created => this with
        {
            ById = ById.SetItem(created.Operator.Id, created.Operator),
            IdByTokenHash = IdByTokenHash.SetItem(created.Operator.TokenHash, created.Operator.Id),
            AdminEverCreated = AdminEverCreated || created.Operator.Roles.Contains(OperatorRole.Admin),
        },
        OperatorProtocol.RolesGranted granted => this with
        {
            ById = ById.SetItem(granted.Id, ById[granted.Id] with { Roles = granted.Roles }),
            AdminEverCreated = AdminEverCreated || granted.Roles.Contains(OperatorRole.Admin),
        },
        OperatorProtocol.TokenRotated rotated => this with
        {
            ById = ById.SetItem(rotated.Id, ById[rotated.Id] with { TokenHash = rotated.TokenHash, ExpiresAt = rotated.ExpiresAt }),
            IdByTokenHash = IdByTokenHash.Remove(ById[rotated.Id].TokenHash).SetItem(rotated.TokenHash, rotated.Id),
        },
        OperatorProtocol.OperatorRevoked revoked => this with
        {
            ById = ById.SetItem(revoked.Id, ById[revoked.Id] with { RevokedAt = revoked.Meta.At, RevokedBy = revoked.Meta.Actor }),
        },
        // Refusals and actions are the audit trail; they change no operator.
        OperatorProtocol.AccessRefused or OperatorProtocol.OperatorActed => this,
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Not an operator registry event."),
    };

    private static (OperatorProtocol.OperatorAnswer, IPaymasterMessage?) Refuse(string code, string message) =>
        (new OperatorProtocol.OperatorAnswer(null, new Rejection(code, message)), null);
}
