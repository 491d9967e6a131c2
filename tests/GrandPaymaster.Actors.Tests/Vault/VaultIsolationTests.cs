using System.Reflection;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Vault;

namespace GrandPaymaster.Actors.Tests.Vault;

/// <summary>
/// Isolation (issue 11, point 5): the pools' and agents' code has no reference to the vault's keys. Checked on the compiled types
/// (no member, constructor parameter or base of a pool type mentions a vault type) and on the sources of the pools' folder.
/// </summary>
public sealed class VaultIsolationTests
{
    [Fact]
    public void No_pool_type_references_a_vault_type()
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var poolTypes = typeof(ChainPoolActor).Assembly.GetTypes().Where(t => t.Namespace == typeof(ChainPoolActor).Namespace).ToArray();
        var vaultNamespace = typeof(IVaultKeys).Namespace;
        static IEnumerable<Type> Mentioned(Type t) =>
            t.GetFields(all).Select(f => f.FieldType)
                .Concat(t.GetProperties(all).Select(p => p.PropertyType))
                .Concat(t.GetConstructors(all).SelectMany(c => c.GetParameters()).Select(p => p.ParameterType))
                .Concat(t.GetMethods(all).SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)))
                .Concat(t.GetInterfaces())
                .Append(t.BaseType ?? typeof(object))
                .SelectMany(x => x.IsGenericType ? x.GetGenericArguments().Prepend(x) : [x]);

        Assert.NotEmpty(poolTypes);
        var leaks = poolTypes.SelectMany(t => Mentioned(t).Where(m => m.Namespace == vaultNamespace).Select(m => $"{t.Name} → {m.Name}")).ToArray();
        Assert.Empty(leaks);
    }

    [Fact]
    public void The_pools_sources_never_mention_the_vaults_keys()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "GrandPaymaster.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var pools = Path.Combine(root.FullName, "src", "GrandPaymaster.Actors", "Pools");

        var mentions = Directory.EnumerateFiles(pools, "*.cs", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f) is var text && (text.Contains("IVaultKeys", StringComparison.Ordinal) || text.Contains("DevVaultKeys", StringComparison.Ordinal)
                                                           || text.Contains("Actors.Vault", StringComparison.Ordinal) || text.Contains(".Vault(", StringComparison.Ordinal)))
            .Select(Path.GetFileName).ToArray();
        Assert.Empty(mentions);
    }
}
