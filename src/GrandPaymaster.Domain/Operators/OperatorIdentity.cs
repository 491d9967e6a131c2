using System.Collections.Immutable;

namespace GrandPaymaster.Domain.Operators;

/// <summary>
/// Where an operator may act: the chains and dApps it was limited to. Both null: everything. Once either is set the scope is
/// limited, and a null one means none of that kind (a dApp-scoped operator touches no chain). A scoped operator may use routes on
/// a chain or dApp in its scope, and read-only routes without one; changes that are not about one chain or dApp need an
/// unscoped operator.
/// </summary>
public sealed record OperatorScope(ImmutableSortedSet<long>? Chains, ImmutableSortedSet<string>? Dapps)
{
    public static readonly OperatorScope Everything = new(null, null);

    public bool IsUnlimited => Chains is null && Dapps is null;

    public bool CoversChain(long chainId) => IsUnlimited || Chains?.Contains(chainId) == true;

    public bool CoversDapp(string dappId) => IsUnlimited || Dapps?.Contains(dappId) == true;
}

/// <summary>An authenticated operator, as the admin API sees it for one request.</summary>
public sealed record OperatorIdentity(string Id, ImmutableArray<OperatorRole> Roles, OperatorScope Scope, bool IsBootstrap = false)
{
    /// <summary>The <c>Meta.Actor</c> of what this operator does.</summary>
    public string Actor => $"operator:{Id}";
}
