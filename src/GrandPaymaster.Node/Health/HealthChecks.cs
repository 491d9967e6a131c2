using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence;
using GrandPaymaster.Node.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Health;

/// <summary>Ready only once this node is an <c>Up</c> member: before that, sharded entities cannot start here.</summary>
public sealed class ClusterUpHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var self = Cluster.Get(system).SelfMember;
        return Task.FromResult(self.Status == MemberStatus.Up
            ? HealthCheckResult.Healthy($"{self.Address} is Up")
            : HealthCheckResult.Unhealthy($"{self.Address} is {self.Status}"));
    }
}

/// <summary>
/// Asks the journal plugin itself (not just the database file) to replay nothing, which makes it read
/// the highest sequence number of a probe id from the database: a plugin
/// that cannot reach its database shows up here.
/// </summary>
public sealed class JournalHealthCheck(ActorSystem system) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var journal = Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(null);
        try
        {
            var answer = await journal.Ask<object>(
                replyTo => new ReplayMessages(0, 0, 0, "gpm-health-probe", replyTo), Timeout, ct);
            return answer switch
            {
                RecoverySuccess => HealthCheckResult.Healthy("journal answers"),
                ReplayMessagesFailure failure => HealthCheckResult.Unhealthy("journal failed", failure.Cause),
                _ => HealthCheckResult.Unhealthy($"unexpected journal answer {answer.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            return HealthCheckResult.Unhealthy($"journal silent for {Timeout.TotalSeconds:0} s");
        }
    }
}

/// <summary>
/// Every configured chain answers <c>eth_chainId</c> with its configured id on at least one endpoint, has a forwarder, and
/// has code at the forwarder's address (checked until seen once: code does not go away).
/// </summary>
public sealed class ChainsHealthCheck(ChainRpcDirectory chains, ChainContracts contracts) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<(long, Chain.Crypto.EthAddress), bool> _forwardersSeen = new();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var results = await Task.WhenAll(chains.All.Select(async chain =>
        {
            try
            {
                // The endpoint set checks each endpoint's chain id itself and never uses one that answers another.
                var id = await chain.Endpoints.CallAsync((client, t) => client.ChainIdAsync(t), ct).WaitAsync(Timeout, ct);
                if (id != chain.ChainId) return (chain.Name, Problem: $"{chain.Name} ({chain.ChainId}) does not answer");
                return (chain.Name, Problem: await ForwarderProblemAsync(chain, ct));
            }
            catch (Exception e) when (e is Chain.Rpc.RpcException or TimeoutException)
            {
                // Reported below, without the endpoint's URL.
            }

            return (chain.Name, Problem: (string?)$"{chain.Name} ({chain.ChainId}) does not answer");
        }));
        var problems = results.Where(r => r.Problem is not null).Select(r => r.Problem!).ToArray();
        var data = results.ToDictionary(r => r.Name, r => (object)(r.Problem is null ? "up" : "down"));
        return problems.Length == 0
            ? HealthCheckResult.Healthy($"{results.Length} chain(s) answer", data)
            : HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data);
    }

    private async Task<string?> ForwarderProblemAsync(ConfiguredChain chain, CancellationToken ct)
    {
        // Forwarded calls are the default: a chain without a forwarder cannot serve them.
        if (contracts.Forwarder(chain.ChainId) is not { } forwarder) return $"{chain.Name} ({chain.ChainId}) has no forwarder (Gpm:Chains:i:Forwarder)";
        if (_forwardersSeen.ContainsKey((chain.ChainId, forwarder))) return null;
        var code = await chain.Endpoints.CallAsync((client, t) => client.RequestAsync("eth_getCode", [forwarder.ToChecksumString(), "latest"], ct: t), ct)
            .WaitAsync(Timeout, ct);
        if (code.GetString() is null or "0x") return $"{chain.Name} ({chain.ChainId}) has no contract at its forwarder {forwarder}";
        _forwardersSeen[(chain.ChainId, forwarder)] = true;
        return null;
    }
}

/// <summary>
/// Ready once the gas and rate oracles have priced every chain at least once: before that every quote would be refused. A chain
/// whose market is stale is named (quotes there are refused), but does not make the node unready: other chains still quote.
/// </summary>
public sealed class MarketHealthCheck(ChainRpcDirectory chains, Actors.Market.GasMarketBoard board, Actors.Market.RateBoard rates) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        // Priced once: a median was produced at least once (a first round whose sources all timed out does not count).
        var states = chains.All.ToDictionary(c => c.Name, c => rates.Get(c.ChainId) is null || board.Get(c.ChainId) is not { RecentMedians.Count: > 0 } gas
            ? (Domain.Market.MarketState?)null
            : gas.Market?.State);
        var data = states.ToDictionary(s => s.Key, s => (object)(s.Value?.ToString().ToLowerInvariant() ?? "not priced yet"));
        var missing = states.Where(s => s.Value is null).Select(s => s.Key).ToArray();
        return Task.FromResult(missing.Length == 0
            ? HealthCheckResult.Healthy("every chain is priced", data)
            : HealthCheckResult.Unhealthy($"no gas market yet for {string.Join(", ", missing)}", data: data));
    }
}

/// <summary>Ready once this node has read its directory of dApps from the journal (until then the dApp API answers 503).</summary>
public sealed class DirectoryHealthCheck(Actors.Dapps.DappDirectory directory, Actors.Compliance.DenylistBoard denylist) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var data = new Dictionary<string, object> { ["dapps"] = directory.Count, ["denylisted"] = denylist.Count };
        return Task.FromResult(directory.Loaded
            ? HealthCheckResult.Healthy("the dApp directory is loaded", data)
            : HealthCheckResult.Unhealthy("the dApp directory is still being read from the journal", data: data));
    }
}
