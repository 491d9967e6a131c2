using GrandPaymaster.Domain.Operators;
using System.Globalization;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// Operators' view of the market (<c>/admin/v1/market</c>): per chain, each gas source's last value, latency, errors and
/// freshness and what the oracle made of it; the median, state, volatility and buffer; the rates; the pool's mode.
/// </summary>
public static class MarketAdminEndpoints
{
    public static void MapMarketAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/market", (HttpContext http, ChainRpcDirectory chains, GasMarketBoard board, RateBoard rates, PoolModeDirectory modes, TimeProvider clock) =>
        {
            return Results.Json(chains.All.Select(chain => View(chain, board, rates, modes, clock.GetUtcNow())));
        }).RequireRole(OperatorRole.Viewer);
        admin.MapGet("/market/{chainId}", (string chainId, HttpContext http, ChainRpcDirectory chains, GasMarketBoard board, RateBoard rates,
            PoolModeDirectory modes, TimeProvider clock) =>
        {
            if (!ChainId.TryParse(chainId, out var id) || chains.Find(id) is not { } chain)
                return Problems.Of(StatusCodes.Status404NotFound, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");
            return Results.Json(View(chain, board, rates, modes, clock.GetUtcNow()));
        }).RequireRole(OperatorRole.Viewer);
    }

    private static object View(ConfiguredChain chain, GasMarketBoard board, RateBoard rates, PoolModeDirectory modes, DateTimeOffset now)
    {
        var id = new ChainId(chain.ChainId);
        var oracle = board.Get(chain.ChainId);
        var gas = oracle?.Market;
        var verdicts = gas?.Sources.ToDictionary(s => s.Reading.Source, s => s.Verdict) ?? [];
        return new
        {
            chainId = chain.ChainId,
            name = chain.Name,
            state = Lower(gas?.State ?? MarketState.Stale),
            medianWeiPerGas = Text(gas?.Median),
            volatilityBps = gas?.Volatility.Value ?? 0,
            bufferBps = gas?.Buffer.Value,
            at = gas?.At,
            sources = (oracle?.Sources.Values ?? []).OrderBy(s => s.Source, StringComparer.Ordinal).Select(s => new
            {
                name = s.Source,
                verdict = verdicts.TryGetValue(s.Source, out var verdict) ? Lower(verdict) : "unknown",
                lastWeiPerGas = Text(s.LastGood?.WeiPerGas),
                lastAnsweredAt = s.LastGood?.At,
                ageSeconds = s.LastGood is { } good ? Math.Round((now - good.At).TotalSeconds, 1) : (double?)null,
                latencyMs = Math.Round(s.LastLatency.TotalMilliseconds, 1),
                errors = s.Errors,
                lastError = s.LastError,
                lastErrorAt = s.LastErrorAt,
            }),
            rates = FeeTokens.All.Select(token =>
            {
                var rate = rates.Get(chain.ChainId)?.Rates.GetValueOrDefault(token);
                return new { token = token.Symbol(), unitsPerNativeCoin = Text(rate?.UnitsPerNativeCoin), freshSources = rate?.FreshSources ?? 0, oldestUsedAt = rate?.OldestUsedAt };
            }),
            rateSources = (rates.Get(chain.ChainId)?.Failures ?? []).OrderBy(f => f.Key, StringComparer.Ordinal)
                .Select(f => new { name = f.Key, errors = f.Value.Errors, lastError = f.Value.LastError }),
            poolMode = Lower((modes.Get(id) ?? PoolModeView.Initial(id)).Mode),
        };
    }

    /// <summary><c>OutOfBounds</c> → <c>out_of_bounds</c>: the API's spelling of an enum value.</summary>
    private static string Lower<T>(T value) where T : struct, Enum =>
        string.Concat(value.ToString().Select((ch, i) => char.IsUpper(ch) && i > 0 ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    private static string? Text(System.Numerics.BigInteger? value) => value?.ToString(CultureInfo.InvariantCulture);
}
