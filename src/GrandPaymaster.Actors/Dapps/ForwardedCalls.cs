using System.Numerics;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Chain.Encoding;
using GrandPaymaster.Chain.Forwarding;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Actors.Dapps;

/// <summary>A forwarded quote as the user signs it and as the pool relays it (<c>forwarder.execute(request)</c>).</summary>
public static class ForwardedCalls
{
    /// <summary>The EIP-712 <c>ForwardRequest</c> of a forwarded quote: what the user signs and the forwarder checks.</summary>
    public static ForwardRequest RequestOf(Quote quote)
    {
        var terms = quote.Forward ?? throw new ArgumentException($"Quote {quote.Id} is a direct call.", nameof(quote));
        return new ForwardRequest(quote.Request.Sender.ToChain(), quote.Request.To.ToChain(), BigInteger.Zero, terms.InnerGas, terms.UserNonce,
            (ulong)terms.Deadline, Hex.Decode(quote.Request.DataHex));
    }

    public static ForwarderDomain DomainOf(Quote quote) =>
        ForwarderDomain.For(quote.Request.ChainId.Value, (quote.Forward ?? throw new ArgumentException($"Quote {quote.Id} is a direct call.", nameof(quote))).Forwarder.ToChain());

    /// <summary>The calldata of <c>forwarder.execute(request)</c> with the user's signature (hex).</summary>
    public static string ExecuteCalldata(Quote quote, string signatureHex) => Hex.Encode(ForwarderAbi.Execute(RequestOf(quote), Hex.Decode(signatureHex)));
}
