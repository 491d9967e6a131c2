using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Treasury;

namespace GrandPaymaster.Node.Hosting;

/// <summary>The vault's options: the operator's overlay over <c>hocon/vault.hocon</c> (<c>Gpm:Vault:Hocon</c>).</summary>
public sealed class VaultOptions
{
    public string Hocon { get; set; } = "";
}

/// <summary>Builds what the vault singleton needs, on nodes with role <c>vault</c> only (elsewhere no vault key is ever built).</summary>
public static class VaultWiring
{
    public static VaultDependencies? DependenciesFor(GpmOptions gpm, ChainRpcDirectory chains, TimeProvider clock, IConfiguration configuration, IWalletKeys keys)
    {
        var settings = VaultHocon.Load(configuration.GetSection("Gpm:Vault").Get<VaultOptions>()?.Hocon ?? "");
        if (!gpm.Node.EffectiveRoles.Contains(VaultHosting.Role)) return null;
        return new VaultDependencies(
            new DevVaultKeys(gpm.Wallets.DevSeed, chains.All.Select(c => c.ChainId)),
            chains.All.Select(c => new ChainId(c.ChainId)).ToArray(),
            chainId => chains.Find(chainId) is { } chain ? new RpcVaultChain(chain.VaultChain) : null,
            chainId => chains.Find(chainId)?.ConfirmationDepth ?? 0,
            clock,
            settings)
        {
            // The pool wallets (addresses only) the vault registers itself at recovery: the only ones it tops up without approvals.
            PoolWallets = chains.All.ToDictionary(c => new ChainId(c.ChainId), c => keys.WorkersOf(new ChainId(c.ChainId))),
        };
    }
}
