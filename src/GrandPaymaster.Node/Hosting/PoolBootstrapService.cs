using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Pools;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// Registers the configured worker wallets with each chain's pool entity at start. Registration is
/// idempotent, so every node start may do it; only the first one writes an event.
/// </summary>
public sealed class PoolBootstrapService(
    IOptions<GpmOptions> options, IRequiredActor<ChainPoolRegion> pools, IWalletKeys keys, TimeProvider clock, ILogger<PoolBootstrapService> log)
    : BackgroundService
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var gpm = options.Value;
        if (!gpm.Node.EffectiveRoles.Contains("core")) return;

        var region = await pools.GetAsync(ct);
        foreach (var chain in gpm.EffectiveChains)
        {
            var chainId = new ChainId(chain.ChainId);
            foreach (var wallet in keys.WorkersOf(chainId))
            {
                var meta = Meta.System("bootstrap", $"worker wallet {wallet} of {chain.Name} from the key source", clock.GetUtcNow());
                var reply = await RegisterWithRetryAsync(region, new PoolCommands.RegisterWorkerWallet(chainId, wallet, meta), ct);
                if (reply.Added) log.LogInformation("Pool {ChainId}: worker wallet {Wallet} registered", chainId, wallet);
            }
        }
    }

    /// <summary>
    /// A slow journal or a cluster still forming must not take the node down (an exception here would
    /// stop the host), so registration is retried with capped exponential backoff until it lands.
    /// </summary>
    private async Task<PoolReplies.WorkerWalletRegistration> RegisterWithRetryAsync(
        IActorRef region, PoolCommands.RegisterWorkerWallet command, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                return await region.Ask<PoolReplies.WorkerWalletRegistration>(command, AskTimeout, ct);
            }
            catch (AskTimeoutException)
            {
                log.LogWarning("Pool {ChainId} did not confirm worker wallet {Wallet} within {Timeout}; retrying in {Backoff}",
                    command.ChainId, command.Wallet, AskTimeout, backoff);
                await Task.Delay(backoff, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
