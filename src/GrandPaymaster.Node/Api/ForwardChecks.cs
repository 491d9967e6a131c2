using System.Numerics;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Chain.Crypto;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Domain.Dapps;
using GrandPaymaster.Node.Hosting;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// What the edge checks before a forwarded quote may hold any money: the user's signature (recovered by our own code),
/// the deadline, and a simulation of <c>forwarder.execute</c> itself; when the forwarder refuses the signer (the user's
/// nonce is another one), the nonce is read: a request behind others of its user still in flight cannot be simulated
/// yet, and the pool simulates it right before signing.
/// </summary>
public static class ForwardChecks
{
    /// <returns>Whether <c>execute</c> was simulated and the user's nonce on the forwarder, or the refusal.</returns>
    public static async Task<(bool Simulated, BigInteger? ChainNonce, IResult? Problem)> CheckAsync(Quote quote, string signatureHex, ConfiguredChain chain, DateTimeOffset now,
        CancellationToken ct)
    {
        var request = ForwardedCalls.RequestOf(quote);
        if (!SignerIs(request, ForwardedCalls.DomainOf(quote), Hex.Decode(signatureHex)))
            return Refuse(RejectionCodes.InvalidSignature, $"The signature is not {request.From}'s signature of this quote's forwardRequest.");
        if ((ulong)now.ToUnixTimeSeconds() >= request.Deadline)
            return Refuse(RejectionCodes.RequestExpired, $"The request's deadline ({request.Deadline}) has passed; request a new quote.");

        var forwarder = quote.Forward!.Forwarder.Value;
        try
        {
            // The user's next request, the common case, costs one eth_call: execute itself, with the quoted gas limit, so it
            // succeeds only if the whole transaction fits in what the quote covers (eth_estimateGas would run it a dozen times).
            var execute = new CallRequest(forwarder, ForwarderAbi.Execute(request, Hex.Decode(signatureHex)), Gas: quote.Breakdown.GasLimit);
            await chain.Endpoints.CallAsync((c, t) => c.CallAsync(execute, null, t), ct);
            return (true, request.Nonce, null);
        }
        catch (RpcRevertException e)
        {
            return ForwarderAbi.Refusal(e.ErrorData) switch
            {
                // The signature was checked above, so the forwarder refuses the signer only when its nonce is another one.
                ForwarderRefusal.InvalidSigner => await NonceCheckAsync(request, chain, forwarder, ct),
                ForwarderRefusal.Expired => Refuse(RejectionCodes.RequestExpired, "The request's deadline has passed; request a new quote."),
                ForwarderRefusal.UntrustedTarget => Untrusted(request),
                _ => Refuse(RejectionCodes.SimulationReverted,
                    e.Reason is null ? "The forwarded call reverts when simulated." : $"The forwarded call reverts when simulated: {RpcRedaction.Redact(e.Reason)}"),
            };
        }
        catch (RpcErrorException)
        {
            // The node's own answer to the call (out of gas within the quoted limit, say), not an outage.
            return Refuse(RejectionCodes.SimulationReverted, "The forwarded call fails when simulated within the quoted gas; request a new quote.");
        }
        catch (Exception e) when (e is RpcException or FormatException)
        {
            return Unavailable(chain);
        }
    }

    /// <summary>
    /// A request that is not the user's next one: stale if the user's nonce moved past it; otherwise it waits behind the
    /// user's earlier requests and cannot be simulated yet (the pool simulates it right before signing). The target's
    /// trust needs no call of its own: the forwarder checks it before the signer, so refusing the signer proved it.
    /// </summary>
    private static async Task<(bool, BigInteger?, IResult?)> NonceCheckAsync(ForwardRequest request, ConfiguredChain chain, string forwarder, CancellationToken ct)
    {
        try
        {
            var chainNonce = ForwarderAbi.DecodeUint(await chain.Endpoints.CallAsync(
                (c, t) => c.CallAsync(new CallRequest(forwarder, ForwarderAbi.Nonces(request.From)), null, t), ct));
            if (chainNonce > request.Nonce)
                return Refuse(RejectionCodes.NonceStale, $"The user's forwarder nonce is already {chainNonce}; this request (nonce {request.Nonce}) can never run. Request a new quote.");
            return (false, chainNonce, null);
        }
        catch (Exception e) when (e is RpcException or FormatException)
        {
            return Unavailable(chain);
        }
    }

    private static (bool, BigInteger?, IResult?) Unavailable(ConfiguredChain chain) =>
        (false, null, Problems.Of(StatusCodes.Status503ServiceUnavailable, RejectionCodes.PoolUnavailable, $"Chain {chain.Name} cannot check the request right now; retry."));

    private static bool SignerIs(ForwardRequest request, ForwarderDomain domain, byte[] signature)
    {
        try
        {
            return request.Signer(domain, signature) == request.From;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            // Not a point on the curve, s out of range, a bad recovery id: not the user's signature either way.
            return false;
        }
    }

    private static (bool, BigInteger?, IResult?) Untrusted(ForwardRequest request) =>
        Refuse(RejectionCodes.UntrustedTarget, $"{request.To} does not trust the paymaster's forwarder (ERC-2771 isTrustedForwarder is false); it cannot be called forwarded.");

    private static (bool, BigInteger?, IResult?) Refuse(string code, string detail) => (false, null, Problems.Of(Problems.StatusOf(code), code, detail));
}
