using System.Collections.Immutable;

namespace GrandPaymaster.Domain.Operators;

/// <summary>
/// What an operator may do. <see cref="Admin"/> implies <see cref="Operator"/>, which implies <see cref="Viewer"/>;
/// <see cref="Approver"/> implies only <see cref="Viewer"/>: approving vault movements is kept apart from running the system
/// (an admin cannot approve a withdrawal unless it was also granted <see cref="Approver"/>).
/// </summary>
public enum OperatorRole
{
    /// <summary>Reads everything an operator can see; changes nothing.</summary>
    Viewer,

    /// <summary>Runs the system: pause and resume pools, freeze dApps, acknowledge alerts, schedule timelocked changes.</summary>
    Operator,

    /// <summary>Approves vault proposals (multi-sig).</summary>
    Approver,

    /// <summary>Creates and revokes operators, executes timelocked changes, registers dApps and books deposits.</summary>
    Admin,
}

/// <summary>Parsing, naming and the implication rule of <see cref="OperatorRole"/>.</summary>
public static class OperatorRoles
{
    public static readonly ImmutableArray<OperatorRole> All = [OperatorRole.Viewer, OperatorRole.Operator, OperatorRole.Approver, OperatorRole.Admin];

    /// <summary>True when holding <paramref name="held"/> allows what needs <paramref name="required"/>.</summary>
    public static bool Grants(this OperatorRole held, OperatorRole required) => held == required || (held, required) switch
    {
        (OperatorRole.Admin, OperatorRole.Operator or OperatorRole.Viewer) => true,
        (OperatorRole.Operator or OperatorRole.Approver, OperatorRole.Viewer) => true,
        _ => false,
    };

    public static bool Grants(this IEnumerable<OperatorRole> held, OperatorRole required) => held.Any(role => role.Grants(required));

    public static string Name(this OperatorRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out OperatorRole role)
    {
        foreach (var candidate in All)
            if (string.Equals(candidate.Name(), text, StringComparison.Ordinal))
            {
                role = candidate;
                return true;
            }

        role = default;
        return false;
    }
}
