using System.Globalization;
using System.Text.Json;
using Akka.Hosting;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Timelock;
using GrandPaymaster.Node.Api;
using GrandPaymaster.Node.Hosting;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;

namespace GrandPaymaster.Node.Timelock;

/// <summary>
/// <c>vault.limit {chainId, dailyLimit?, autoLimit?}</c> (wei as decimal strings, at least one): a chain's daily limit of automatic
/// top-ups and its per-transfer automatic limit, set in the vault (<c>VaultLimitsSet</c> in its journal); a limit left out stays.
/// </summary>
public sealed class VaultLimitChange(ChainRpcDirectory chains, IRequiredActor<VaultSingleton> vault) : ITimelockedChange
{
    public string Kind => "vault.limit";

    public Task<TimelockCheck> CheckAsync(JsonRequest parameters, CancellationToken ct)
    {
        parameters.Allow("chainId", "dailyLimit", "autoLimit");
        var chainId = parameters.ChainId("chainId");
        var daily = parameters.Quantity("dailyLimit", required: false);
        var auto = parameters.Quantity("autoLimit", required: false);
        if (daily is null && auto is null && parameters.IsValid) parameters.Error("dailyLimit", "dailyLimit or autoLimit is required");
        if (!parameters.IsValid) return Task.FromResult(TimelockCheck.Invalid);
        if (chains.Find(chainId!.Value) is null)
            return Task.FromResult(TimelockCheck.Refuse(Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {chainId} is not served by this paymaster.")));
        return Task.FromResult(TimelockCheck.Valid(new
        {
            chainId = chainId.Value.Value,
            dailyLimit = daily?.ToString(CultureInfo.InvariantCulture),
            autoLimit = auto?.ToString(CultureInfo.InvariantCulture),
        }, $"vault of chain {chainId}"));
    }

    public async Task<string> ExecuteAsync(JsonElement parameters, TimelockChange change, Meta meta, CancellationToken ct)
    {
        var chainId = new ChainId(parameters.GetProperty("chainId").GetInt64());
        var (view, problem) = await VaultEndpoints.AskAsync<VaultView>(vault,
            new SetVaultLimits(chainId, Amount(parameters, "dailyLimit"), Amount(parameters, "autoLimit"), meta), ct);
        if (problem is not null || view is not { Chains.Count: > 0 })
            throw new TimelockExecutionException($"The vault did not set the limits of chain {chainId} (it did not answer or refused).");
        var set = view.Chains[0];
        return $"the vault of chain {chainId} has a daily limit of {set.DailyLimit.Value} wei and an automatic limit of {set.AutoLimit.Value} wei per transfer";
    }

    private static Wei? Amount(JsonElement parameters, string name) =>
        parameters.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? new Wei(System.Numerics.BigInteger.Parse(value.GetString()!, CultureInfo.InvariantCulture))
            : null;
}
