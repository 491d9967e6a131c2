using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Akka.Hosting;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Pools;
using GrandPaymaster.Node.Hosting;
using GrandPaymaster.Node.Market;
using GrandPaymaster.Node.Policy;
using static GrandPaymaster.Domain.Dapps.DappCommands;
using static GrandPaymaster.Domain.Dapps.DappReplies;

namespace GrandPaymaster.Node.Api;

/// <summary>The dApp API (<c>/v1</c>), authenticated with <c>X-Api-Key</c>.</summary>
public static class DappEndpoints
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ExecuteTimeout = TimeSpan.FromSeconds(20);
    private static readonly BigInteger MinGasLimit = 21_000;
    private static readonly BigInteger MaxGasLimit = 30_000_000;

    public static void MapDappApi(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapPost("/quotes", CreateQuoteAsync);
        v1.MapPost("/quotes/{quoteId}/execute", ExecuteAsync);
        v1.MapGet("/quotes/{quoteId}", GetQuoteAsync);
        v1.MapGet("/balances", GetBalancesAsync);
        v1.MapDappPolicy();
    }

    private static async Task<IResult> CreateQuoteAsync(HttpContext http, DappGate gate, DenylistRules denylist, IRequiredActor<DappRegion> dapps, IMarketView market,
        ChainRpcDirectory chains, PoolModeDirectory modes, ChainContracts contracts, SafeModeQuoting safeMode)
    {
        var (caller, denied) = gate.Admit(http, quote: true);
        if (denied is not null) return denied;
        using var slot = gate.TryQuoteSlot();
        if (slot is null) return DappGate.Overloaded("quotes");
        var dappId = caller!.Id;
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;

        body!.Allow("chainId", "sender", "to", "data", "value", "gasLimit", "feeToken", "callType");
        var direct = body.String("callType", required: false, maxLength: 16) switch
        {
            null or "forwarded" => false,
            "direct" => true,
            _ => Invalid(body, "callType", "must be \"forwarded\" (the default: the user signs, the forwarder calls) or \"direct\""),
        };
        var chainId = body.ChainId("chainId");
        var sender = body.Address("sender");
        var to = body.Address("to");
        var data = body.HexData("data");
        var value = body.Quantity("value", required: false);
        var gasLimit = body.Quantity("gasLimit", required: false);
        var token = body.Token("feeToken");
        if (value is { IsZero: false }) body.Error("value", "must be 0: the paymaster pays gas, not value");
        if (gasLimit is { } limit && (limit < MinGasLimit || limit > MaxGasLimit)) body.Error("gasLimit", $"must be between {MinGasLimit} and {MaxGasLimit}");
        if (!body.IsValid) return Problems.Invalid(body.Errors);

        var chain = chains.Find(chainId!.Value);
        if (chain is null) return Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");
        if ((data!.Length - 2) / 2 > chain.MaxDataBytes)
            return Problems.Invalid(new Dictionary<string, string[]> { ["data"] = [$"must be at most {chain.MaxDataBytes} bytes on chain {chain.Name}"] });
        // The denylist is replicated to this node: a listed user or target is refused here, before any RPC call or actor message.
        if (denylist.Check(dappId, sender!.Value, to!.Value) is { } listed) return Problems.From(listed);
        // The pool's mode is replicated to this node: a paused chain is refused here, with no RPC call and no actor message.
        if (modes.Get(chainId.Value) is { } mode && DappState.PoolRefusal(mode) is { } closed) return Problems.From(closed);
        if (market.Gas(chainId.Value) is not { Median: { } median } gas)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.PoolUnavailable,
                $"No fresh gas price for chain {chainId} (its gas sources are stale or disagree); retry shortly.");
        if (market.Rate(chainId.Value, token!.Value) is not { } rate)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.RateUnavailable,
                $"No fresh {token.Value.Symbol()} rate on chain {chainId}: quotes in {token.Value.Symbol()} are paused (never priced at an old rate); another token may be quoted, or retry shortly.");
        var gasPrice = new Wei(median);

        var forwarder = direct ? null : contracts.Forwarder(chainId.Value.Value);
        if (!direct && forwarder is null)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.PoolUnavailable, $"Chain {chainId} has no forwarder configured; forwarded calls are not served there.");

        var region = await dapps.GetAsync(http.RequestAborted);
        ForwardInputs? forwarding = null;
        if (forwarder is { } f)
        {
            // The target sees the call from the forwarder with the user appended: simulate exactly that.
            var (inner, readProblem) = await ForwardingAsync(chain, f, sender.Value, to.Value, data, gasLimit, http.RequestAborted);
            if (readProblem is not null) return Reported(region, dappId, readProblem);
            forwarding = new ForwardInputs(Address.Parse(f.ToChecksumString()), inner!.Value.Nonce, inner.Value.Gas);
            gasLimit = ForwarderAbi.OuterGasLimit(inner.Value.Gas, (data.Length - 2) / 2);
        }
        else if (gasLimit is null)
        {
            var (estimate, simulationProblem) = await EstimateAsync(chain, DirectCall(sender.Value, to.Value, data), http.RequestAborted);
            if (simulationProblem is not null) return Reported(region, dappId, simulationProblem);
            gasLimit = estimate;
        }

        if (await GasCap.CheckAsync(chain, gasLimit!.Value, MaxGasLimit, forwarder is not null, http.RequestAborted) is { } tooMuchGas) return tooMuchGas;

        var buffer = gas.Buffer;
        if (modes.Get(chainId.Value) is { Mode: PoolMode.SafeMode } safe)
        {
            buffer = safeMode.Buffer(chainId.Value.Value, buffer);
            var most = SafeModeQuoting.MostNativeGas(gasLimit!.Value, gasPrice, buffer);
            var highValue = safeMode.HighValueLimitWei(chainId.Value.Value);
            if (most > highValue)
            {
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, RejectionCodes.SafeModeHighValueRejected,
                    $"Chain {chainId} is in safe mode ({safe.Reason}): this transaction could cost up to {most} wei of gas, above the {highValue} wei served until the market calms down. Smaller transactions are served.");
            }
        }

        if (denylist.Screen(dappId, sender.Value, SafeModeQuoting.MostNativeGas(gasLimit!.Value, gasPrice, buffer)) is { } ruled) return Problems.From(ruled);
        var request = new QuoteRequest(chainId.Value, sender.Value, to.Value, data, gasLimit.Value, token.Value);
        var command = new RequestQuote(dappId, caller.KeyHash, request, new MarketInputs(gasPrice, buffer, rate), forwarding);
        var (issued, refused) = await EdgeAsk.AskAsync<QuoteIssued>(region, command, QueryTimeout, http.RequestAborted);
        if (refused is Problems.ProblemResult { Code: RejectionCodes.TooManyOpenQuotes }) gate.MarkFull(dappId);
        return refused ?? Results.Json(Views.Quote(issued!.Quote, gas), statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ExecuteAsync(HttpContext http, string quoteId, DappGate gate, DenylistRules denylist, IRequiredActor<DappRegion> dapps,
        ChainRpcDirectory chains, TimeProvider clock)
    {
        var (caller, denied) = gate.Admit(http);
        if (denied is not null) return denied;
        using var slot = gate.TryExecuteSlot();
        if (slot is null) return DappGate.Overloaded("executes");
        var dappId = caller!.Id;
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length is 0 or > 128 || idempotencyKey.Any(c => c is < '!' or > '~'))
            return Problems.Invalid(new Dictionary<string, string[]> { ["Idempotency-Key"] = ["header is required: 1–128 printable ASCII characters"] });

        var (body, problem) = await JsonRequest.ReadAsync(http, allowEmpty: true);
        if (problem is not null) return problem;
        body!.Allow("clientReference", "signature");
        var reference = body.String("clientReference", required: false, maxLength: 128);
        var signature = body.HexData("signature", whenAbsent: null);
        if (signature is not null && signature.Length != 2 + 65 * 2) body.Error("signature", "must be a 65-byte r ‖ s ‖ v signature (0x and 130 hex digits)");
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        if (!QuoteId.TryParse(quoteId, out var id) || id.Dapp != dappId) return QuoteNotFound(quoteId);

        var region = await dapps.GetAsync(http.RequestAborted);
        var keyHash = caller.KeyHash;
        var simulated = false;
        BigInteger? chainNonce = null;
        // Only a signed request is checked against the chain, and only once: a direct call (no signature) goes straight to its
        // dApp, which refuses a forwarded quote without a signature; a quote already executed is a replay or a conflict there.
        if (signature is not null)
        {
            var (status, missing) = await EdgeAsk.AskAsync<QuoteStatus>(region, new GetQuoteStatus(dappId, keyHash, id), QueryTimeout, http.RequestAborted);
            if (missing is not null) return missing;
            if (status!.Execution is null)
            {
                if (status.Quote.Forward is null)
                    return Problems.Invalid(new Dictionary<string, string[]> { ["signature"] = ["a direct call is not signed by the user; send no signature"] });
                // Listed since the quote: refused before any RPC call (the entity checks again before the hold).
                if (denylist.Check(dappId, status.Quote.Request.Sender, status.Quote.Request.To) is { } listed) return Problems.From(listed);
                if (chains.Find(status.Quote.Request.ChainId) is not { } chain)
                    return Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {status.Quote.Request.ChainId} is no longer served by this paymaster.");
                var (checkedOnChain, nonce, refusal) = await ForwardChecks.CheckAsync(status.Quote, signature, chain, clock.GetUtcNow(), http.RequestAborted);
                if (refusal is not null) return Reported(region, dappId, refusal);
                simulated = checkedOnChain;
                chainNonce = nonce;
            }
        }

        // Same key and same request replay; same key and another request conflict (the hash tells them apart).
        var requestHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{id.Value}\n{reference}\n{signature}")));
        var command = new ExecuteQuote(dappId, keyHash, id, idempotencyKey, requestHash, reference, signature, simulated, chainNonce);
        var (accepted, refused) = await EdgeAsk.AskAsync<ExecutionAccepted>(region, command, ExecuteTimeout, http.RequestAborted);
        return refused ?? Results.Json(new { quoteId = accepted!.QuoteId.Value, txHash = accepted.TxHash, status = "submitted" },
            statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetQuoteAsync(HttpContext http, string quoteId, DappGate gate, IRequiredActor<DappRegion> dapps)
    {
        var (caller, denied) = gate.Admit(http);
        if (denied is not null) return denied;
        if (!QuoteId.TryParse(quoteId, out var id) || id.Dapp != caller!.Id) return QuoteNotFound(quoteId);
        var (status, refused) = await EdgeAsk.AskAsync<QuoteStatus>(await dapps.GetAsync(http.RequestAborted),
            new GetQuoteStatus(caller.Id, caller.KeyHash, id), QueryTimeout, http.RequestAborted);
        return refused ?? Results.Json(Views.Status(status!.Quote, status.Execution));
    }

    private static async Task<IResult> GetBalancesAsync(HttpContext http, DappGate gate, IRequiredActor<DappRegion> dapps)
    {
        var (caller, denied) = gate.Admit(http);
        if (denied is not null) return denied;
        var (balances, refused) = await EdgeAsk.AskAsync<Balances>(await dapps.GetAsync(http.RequestAborted),
            new GetBalances(caller!.Id, caller.KeyHash), QueryTimeout, http.RequestAborted);
        return refused ?? Results.Json(Views.Balances(caller.Id.Value, balances!.Ledgers));
    }

    /// <summary>A refusal the dApp's entity never saw (a simulation that reverted) is told to it: its fraud rules count them.</summary>
    private static IResult Reported(Akka.Actor.IActorRef region, DappId dappId, IResult problem)
    {
        if (problem is Problems.ProblemResult { Code: RejectionCodes.SimulationReverted or RejectionCodes.UntrustedTarget } refused)
            region.Tell(new ReportRefusal(dappId, refused.Code), Akka.Actor.ActorRefs.NoSender);
        return problem;
    }

    /// <summary>
    /// Simulates the call when the dApp gave no gas limit (with failover across the chain's endpoints); a revert is the
    /// dApp's problem, an outage ours. The revert reason is decoded ABI data, never the node's own message.
    /// </summary>
    private static async Task<(BigInteger? GasLimit, IResult? Problem)> EstimateAsync(ConfiguredChain chain, CallRequest call, CancellationToken ct)
    {
        try
        {
            var estimate = await chain.Endpoints.CallAsync((client, t) => client.EstimateGasAsync(call, t), ct);
            return (BigInteger.Max(estimate, MinGasLimit), null);
        }
        catch (RpcRevertException e)
        {
            return (null, Problems.Of(StatusCodes.Status422UnprocessableEntity, "simulation_reverted",
                e.Reason is null ? "The call reverts when simulated." : $"The call reverts when simulated: {RpcRedaction.Redact(e.Reason)}"));
        }
        catch (RpcErrorException e) when (e.RpcMessage.Contains("gas required exceeds", StringComparison.OrdinalIgnoreCase))
        {
            // Geth's and anvil's answer for a call that runs out of even a whole block's gas: the call's problem, not an outage.
            return (null, GasCap.EstimateExceeded(chain));
        }
        catch (RpcException)
        {
            return (null, Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.PoolUnavailable, $"Chain {chain.Name} cannot simulate the call right now."));
        }
    }

    /// <summary>A direct call simulated as the quote's sender sends it (not from no one: a target may check its caller).</summary>
    private static CallRequest DirectCall(Address sender, Address to, string data) => new(to.Value, Chain.Encoding.Hex.Decode(data), sender.Value);

    /// <summary>
    /// What a forwarded quote needs from the chain: the user's nonce on the forwarder and, unless the dApp gave one, the gas of
    /// the call as the target will see it (from the forwarder, with the user appended to the data).
    /// </summary>
    private static async Task<((BigInteger Nonce, BigInteger Gas)? Inputs, IResult? Problem)> ForwardingAsync(ConfiguredChain chain, EthAddress forwarder,
        Address sender, Address to, string data, BigInteger? gasLimit, CancellationToken ct)
    {
        var user = EthAddress.Parse(sender.Value);
        BigInteger nonce;
        try
        {
            var output = await chain.Endpoints.CallAsync((c, t) => c.CallAsync(new CallRequest(forwarder.ToChecksumString(), ForwarderAbi.Nonces(user)), null, t), ct);
            nonce = ForwarderAbi.DecodeUint(output);
        }
        catch (Exception e) when (e is RpcException or FormatException)
        {
            return (null, Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.PoolUnavailable, $"Chain {chain.Name} cannot read the user's forwarder nonce right now."));
        }

        if (gasLimit is { } given) return ((nonce, given), null);
        var call = new CallRequest(to.Value, [.. Chain.Encoding.Hex.Decode(data), .. user.ToArray()], forwarder.ToChecksumString());
        var (estimate, problem) = await EstimateAsync(chain, call, ct);
        return problem is not null ? (null, problem) : ((nonce, estimate!.Value), null);
    }

    private static bool Invalid(JsonRequest body, string field, string message)
    {
        body.Error(field, message);
        return false;
    }

    private static IResult QuoteNotFound(string quoteId) =>
        Problems.Of(StatusCodes.Status404NotFound, RejectionCodes.QuoteNotFound, $"Quote {quoteId} does not exist.");
}
