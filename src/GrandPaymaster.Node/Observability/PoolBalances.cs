using System.Collections.Concurrent;
using System.Numerics;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Observability;

/// <summary>
/// Every pool worker's native balance, read from its chain (<c>eth_getBalance</c>, through the chain's failover endpoints) at
/// start and then every <c>gpm.metrics.balance-every</c>, for <c>gpm_pool_balance_wei</c>. Display only: it decides nothing (the
/// treasury issue's Orchestrator owns balances, thresholds and runway). Bounded by the configured chains and workers.
/// </summary>
public sealed class PoolBalances(ChainRpcDirectory chains, IWalletKeys keys, TimeSpan every, ILogger<PoolBalances> log) : BackgroundService
{
    private readonly ConcurrentDictionary<(long Chain, string Worker), BigInteger> _balances = new();

    /// <summary>The last balance read of each worker, in wei.</summary>
    public IReadOnlyDictionary<(long Chain, string Worker), BigInteger> Latest => _balances;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(every);
        do
        {
            foreach (var chain in chains.All)
            foreach (var worker in keys.WorkersOf(new ChainId(chain.ChainId)))
            {
                try
                {
                    var address = worker.Value;
                    _balances[(chain.ChainId, address)] = await chain.Endpoints.CallAsync((client, ct) => client.GetBalanceAsync(address, ct: ct), stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // The last value stays; the endpoints' own health (and its alert) tells why.
                    log.LogDebug("Balance of worker {Worker} on chain {Chain} not read: {Error}", worker.Value, chain.ChainId, e.GetType().Name);
                }
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
