using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Akka.Streams;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Actors.Market;

/// <summary>One opinion on a chain's native coin in fee tokens: base units per whole native coin, per token it prices.</summary>
public interface IRateSource
{
    string Name { get; }

    Task<ImmutableDictionary<FeeToken, BigInteger>> ReadAsync(CancellationToken ct);
}

/// <summary>
/// Rates from configuration (the devnet's feed). With a seed, each read takes one step of a random walk (up to
/// <c>stepBps</c> up or down, never further than <c>maxDriftBps</c> from the configured rate): a market that moves, repeatably.
/// </summary>
public sealed class ConfiguredRateSource(string name, ImmutableDictionary<FeeToken, BigInteger> rates, int? seed = null, int stepBps = 50, int maxDriftBps = 500)
    : IRateSource
{
    private readonly Random? _walk = seed is { } s ? new Random(s) : null;
    private int _driftBps;

    public string Name => name;

    public Task<ImmutableDictionary<FeeToken, BigInteger>> ReadAsync(CancellationToken ct)
    {
        if (_walk is null) return Task.FromResult(rates);
        _driftBps = Math.Clamp(_driftBps + _walk.Next(-stepBps, stepBps + 1), -maxDriftBps, maxDriftBps);
        return Task.FromResult(rates.ToImmutableDictionary(kv => kv.Key, kv => kv.Value * (Bps.Denominator + _driftBps) / Bps.Denominator));
    }
}

/// <summary>
/// A price feed over HTTP: <c>GET url</c> answers a JSON object of token symbol → base units per native coin as a decimal
/// string (<c>{"USDT":"3000000000"}</c>). Anything else is this source's failure for the round.
/// </summary>
public sealed class HttpRateSource(string name, HttpClient http, Uri url) : IRateSource
{
    public string Name => name;

    public async Task<ImmutableDictionary<FeeToken, BigInteger>> ReadAsync(CancellationToken ct)
    {
        using var json = await HttpJson.GetAsync(http, url, ct);
        var rates = ImmutableDictionary.CreateBuilder<FeeToken, BigInteger>();
        foreach (var property in json.RootElement.EnumerateObject())
            if (FeeTokens.TryParse(property.Name, out var token)
                && property.Value.ValueKind == JsonValueKind.String
                && BigInteger.TryParse(property.Value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var units) && units > 0)
                rates[token] = units;
        return rates.ToImmutable();
    }
}

/// <summary>
/// A gas price API over HTTP (the production shape beside the RPC kinds): <c>GET url</c> answers a JSON object whose
/// <c>field</c> (default <c>weiPerGas</c>) is the price in wei per gas as a decimal string or integer. Anything else is
/// this source's failure for the round.
/// </summary>
public sealed class HttpGasSource(string name, HttpClient http, Uri url, string field = "weiPerGas") : Chain.Rpc.IGasSource
{
    public string Name => name;

    public async Task<BigInteger> ReadAsync(CancellationToken ct)
    {
        using var json = await HttpJson.GetAsync(http, url, ct);
        if (!json.RootElement.TryGetProperty(field, out var value)) throw new FormatException($"the answer has no '{field}'");
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        return BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var wei)
            ? wei
            : throw new FormatException($"'{field}' is not a whole number of wei");
    }
}

/// <summary>A small JSON document over HTTP GET (at most <see cref="MaxBodyBytes"/>), for the market's HTTP sources.</summary>
public static class HttpJson
{
    public const int MaxBodyBytes = 16 * 1024;

    public static async Task<JsonDocument> GetAsync(HttpClient http, Uri url, CancellationToken ct)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > MaxBodyBytes) throw new FormatException("the answer is too large");
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxBodyBytes + 1];
        var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        if (read > MaxBodyBytes) throw new FormatException("the answer is too large");
        return JsonDocument.Parse(buffer.AsMemory(0, read));
    }
}

/// <summary>One chain's rate sources and how often and how long they are asked; a rate older than <see cref="FreshFor"/> is not used.</summary>
public sealed record RateOracleSettings(long ChainId, IReadOnlyList<IRateSource> Sources, TimeSpan Tick, TimeSpan SourceTimeout, TimeSpan FreshFor,
    int OutlierRatio = 2);

/// <summary>This node's latest rates of every chain.</summary>
public sealed class RateBoard : ChainBoard<RateView>
{
    public ConversionRate? Rate(long chainId, FeeToken token) => Get(chainId)?.Rates.GetValueOrDefault(token)?.Rate;
}

/// <summary>
/// The rate oracle (DESIGN.md §2): per chain, a stream that asks every rate source each tick and keeps, per token, the
/// median of the fresh answers; a token no source priced recently has no rate (quotes in it are refused, never priced
/// at an old rate).
/// </summary>
public sealed class RateOracleActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IReadOnlyList<RateOracleSettings> _chains;
    private readonly TimeProvider _clock;

    /// <param name="replicate">Hands each view to the other nodes (<see cref="MarketReplication"/>); null: this node only.</param>
    public RateOracleActor(IReadOnlyList<RateOracleSettings> chains, RateBoard board, TimeProvider clock, Action<RateView>? replicate = null)
    {
        _chains = chains;
        _clock = clock;
        Receive<RateOracleState>(state =>
        {
            var previous = board.Get(state.ChainId);
            board.Set(state.ChainId, state.View);
            replicate?.Invoke(state.View);
            foreach (var (token, rate) in state.Rates)
                if ((previous?.Rates.GetValueOrDefault(token)?.Rate is null) != (rate.Rate is null) && (previous is not null || rate.Rate is null))
                    _log.Warning(rate.Rate is null
                        ? "rate_unavailable: chain {0} has no fresh {1} rate; quotes in {1} are refused"
                        : "Chain {0} has a fresh {1} rate again", state.ChainId, token.Symbol());
        });
    }

    public static Props PropsFor(IReadOnlyList<RateOracleSettings> chains, RateBoard board, TimeProvider clock, Action<RateView>? replicate = null) =>
        Props.Create(() => new RateOracleActor(chains, board, clock, replicate));

    protected override void PreStart()
    {
        foreach (var chain in _chains)
            OracleStream.Run(Self, Context.Materializer(), chain.Tick, () => AskAllAsync(chain), RateOracleState.Empty(chain.ChainId),
                (state, answers) => state.Next(answers, _clock.GetUtcNow(), chain.FreshFor, chain.OutlierRatio));
    }

    private async Task<IReadOnlyList<RateReading>> AskAllAsync(RateOracleSettings chain) =>
        await Task.WhenAll(chain.Sources.Select(async source =>
        {
            var (rates, error, _) = await OracleStream.AskAsync(source.ReadAsync, chain.SourceTimeout);
            var at = _clock.GetUtcNow();
            return error is null ? new RateReading(source.Name, rates!, at) : RateReading.Failed(source.Name, at, error);
        }));
}
