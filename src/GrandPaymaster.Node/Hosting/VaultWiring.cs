using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Treasury;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Hosting;

/// <summary>The vault's options: the operator's overlay over <c>hocon/vault.hocon</c> (<c>Gpm:Vault:Hocon</c>).</summary>
public sealed class VaultOptions
{
    public string Hocon { get; set; } = "";
}

/// <summary>Builds what the vault singleton needs, on nodes with role <c>vault</c> only (elsewhere no vault key is ever built).</summary>
public static class VaultWiring
{
    public static VaultDependencies? DependenciesFor(GpmOptions gpm, ChainRpcDirectory chains, TimeProvider clock, IConfiguration configuration)
    {
        var settings = VaultHocon.Load(configuration.GetSection("Gpm:Vault").Get<VaultOptions>()?.Hocon ?? "");
        if (!gpm.Node.EffectiveRoles.Contains(VaultHosting.Role)) return null;
        return new VaultDependencies(
            new DevVaultKeys(gpm.Wallets.DevSeed, chains.All.Select(c => c.ChainId)),
            chains.All.Select(c => new ChainId(c.ChainId)).ToArray(),
            chainId => chains.Find(chainId) is { } chain ? new RpcVaultChain(chain.VaultChain) : null,
            chainId => chains.Find(chainId)?.ConfirmationDepth ?? 0,
            clock,
            settings);
    }
}

/// <summary>
/// Registers the pool wallets this node's key source holds (<see cref="IWalletKeys.WorkersOf"/>) with the vault at start: the only
/// addresses it tops up without approvals. Idempotent: only the first registration of a wallet is journaled (<c>system:bootstrap</c>).
/// </summary>
public sealed class VaultBootstrapService(
    IOptions<GpmOptions> options, IRequiredActor<VaultSingleton> vault, IWalletKeys keys, TimeProvider clock, ILogger<VaultBootstrapService> log)
    : BackgroundService
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var gpm = options.Value;
        if (!gpm.Node.EffectiveRoles.Contains("core")) return;
        var proxy = await vault.GetAsync(ct);
        foreach (var chain in gpm.EffectiveChains)
        foreach (var wallet in keys.WorkersOf(new ChainId(chain.ChainId)))
        {
            var command = new VaultProtocol.RegisterPoolWallet(new ChainId(chain.ChainId), wallet,
                Meta.System("bootstrap", $"pool wallet {wallet} of {chain.Name} from the key source", clock.GetUtcNow()));
            var backoff = TimeSpan.FromMilliseconds(500);
            while (true)
            {
                try
                {
                    var reply = await proxy.Ask<object>(command, AskTimeout, ct);
                    if (reply is VaultProtocol.PoolWalletRegistration { Added: true }) log.LogInformation("Vault: pool wallet {Wallet} of chain {ChainId} registered", wallet, chain.ChainId);
                    else if (reply is VaultProtocol.VaultRefused refused) log.LogError("Vault refused pool wallet {Wallet} of chain {ChainId}: {Code}", wallet, chain.ChainId, refused.Code);
                    break;
                }
                catch (AskTimeoutException)
                {
                    // A vault singleton still starting (or on a node not up yet) must not take this node down: retry with backoff.
                    await Task.Delay(backoff, ct);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
        }
    }
}
