using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Market;
using GrandPaymaster.Domain.Money;

namespace GrandPaymaster.Node.Api;

/// <summary>The JSON shapes of the dApp API. Amounts are decimal strings of base units: exact in every client.</summary>
public static class Views
{
    /// <param name="market">The gas market the quote was priced from (at issue time): why the buffer is what it is.</param>
    public static object Quote(Quote quote, GasMarket? market = null) => new
    {
        quoteId = quote.Id.Value,
        chainId = quote.Request.ChainId.Value,
        callType = quote.Forward is null ? "direct" : "forwarded",
        feeToken = quote.Request.Token.Symbol(),
        maxFee = Units(quote.Breakdown.MaxFee),
        expiresAt = quote.ExpiresAt,
        forwardRequest = quote.Forward is null ? null : ForwardRequest(quote),
        breakdown = new
        {
            gasLimit = Text(quote.Breakdown.GasLimit),
            gasPrice = Text(quote.Breakdown.GasPrice.Value),
            bufferBps = quote.Breakdown.Buffer.Value,
            buffer = market is null ? null : new
            {
                marketState = market.State.ToString().ToLowerInvariant(),
                volatilityBps = market.Volatility.Value,
                gasSourcesUsed = market.Sources.Count(s => s.Verdict == SourceVerdict.Used),
                pricedAt = market.At,
            },
            surchargeBps = quote.Breakdown.Surcharge.Value,
            rate = new { unitsPerNativeCoin = Text(quote.Breakdown.Rate.UnitsPerNativeCoin), token = quote.Breakdown.Rate.Token.Symbol() },
        },
    };

    /// <summary>
    /// What the user signs for a forwarded quote: <c>typedData</c> as <c>eth_signTypedData_v4</c> takes it, and its EIP-712
    /// <c>signingHash</c> (for signers that sign a digest). The signature goes into the execute request.
    /// </summary>
    private static object ForwardRequest(Quote quote)
    {
        var request = ForwardedCalls.RequestOf(quote);
        var domain = ForwardedCalls.DomainOf(quote);
        using var typedData = JsonDocument.Parse(request.TypedDataJson(domain));
        return new { typedData = typedData.RootElement.Clone(), signingHash = Hex.Encode(request.Digest(domain)) };
    }

    public static object Status(Quote quote, Execution? execution)
    {
        var timeline = new List<object> { new { stage = "quoted", at = quote.IssuedAt } };
        if (execution is not null)
        {
            timeline.Add(new { stage = "deducted", at = execution.DeductedAt, amount = Units(execution.Hold) });
            if ((execution.TxHash ?? execution.Settlement?.TxHash) is { } hash)
                timeline.Add(new { stage = "submitted", at = execution.SubmittedAt ?? execution.Settlement!.ConfirmedAt, txHash = hash });
            if (execution.Settlement is { } s)
            {
                timeline.Add(new
                {
                    stage = "confirmed", at = s.ConfirmedAt, txHash = s.TxHash, blockNumber = Text(s.BlockNumber), gasUsed = Text(s.GasUsed),
                    effectiveGasPrice = Text(s.EffectiveGasPrice.Value), succeeded = s.Succeeded,
                });
                timeline.Add(new
                {
                    stage = "settled", at = s.SettledAt, actualCostWei = Text(s.Amounts.ActualCost.Value), fee = Units(s.Amounts.Fee),
                    refund = Units(s.Amounts.Refund), shortfall = Units(s.Amounts.Shortfall), surchargeRevenue = Units(s.Amounts.SurchargeRevenue),
                });
            }

            if (execution.Release is { } r) timeline.Add(new { stage = "released", at = r.At, reason = r.Reason, amount = Units(execution.Hold) });
        }

        return new
        {
            quoteId = quote.Id.Value,
            status = execution?.Status.ToString().ToLowerInvariant() ?? "quoted",
            chainId = quote.Request.ChainId.Value,
            feeToken = quote.Request.Token.Symbol(),
            maxFee = Units(quote.Breakdown.MaxFee),
            txHash = execution?.TxHash ?? execution?.Settlement?.TxHash,
            // Every hash signed for the quote's nonce (the relay, then speed-ups and a cancel); one of them is mined at most.
            txHashes = execution?.TxHashes ?? [],
            callType = quote.Forward is null ? "direct" : "forwarded",
            userNonce = quote.Forward is null ? null : Text(quote.Forward.UserNonce),
            timeline,
        };
    }

    public static object Balances(string dappId, ImmutableDictionary<FeeToken, Ledger> ledgers) => new
    {
        dappId,
        balances = FeeTokens.All.ToDictionary(t => t.Symbol(), t => Ledger(ledgers.GetValueOrDefault(t, Domain.Dapps.Ledger.Empty))),
    };

    private static object Ledger(Ledger l) => new
    {
        deposited = Text(l.Deposited),
        available = Text(l.Available),
        held = Text(l.Held),
        settled = Text(l.Settled),
        shortfall = Text(l.Shortfall),
    };

    private static string Units(TokenAmount amount) => Text(amount.Units);

    private static string Text(System.Numerics.BigInteger value) => value.ToString(CultureInfo.InvariantCulture);
}
