namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// What <see cref="RpcFaultProxy"/> does to a JSON-RPC call instead of (or besides) forwarding it. A rule is set per
/// method; <see cref="RpcFaultProxy.AnyMethod"/> (<c>"*"</c>) covers every method that has no rule of its own.
/// </summary>
public abstract record RpcFault
{
    /// <summary>Waits at least <paramref name="Delay"/>, then forwards.</summary>
    public sealed record Latency(TimeSpan Delay) : RpcFault;

    /// <summary>Never answers: holds the request until the client gives up or the proxy is disposed, then resets the connection.</summary>
    public sealed record Drop : RpcFault;

    /// <summary>Answers a JSON-RPC error object with the request's id, without forwarding.</summary>
    public sealed record Error(long Code, string Message) : RpcFault;

    /// <summary>Answers HTTP 200 with bytes that are not JSON, without forwarding.</summary>
    public sealed record Garbage : RpcFault;

    /// <summary>
    /// Forwards (so the node acts on the call, e.g. accepts a transaction), discards the upstream's answer and answers
    /// the error instead, even when the upstream could not be reached.
    /// </summary>
    public sealed record ForwardThenError(long Code, string Message) : RpcFault;

    /// <summary>
    /// A lagging node: <c>eth_getTransactionReceipt</c> and <c>eth_getBlockReceipts</c> answer <c>result: null</c> without
    /// forwarding. Every other method is forwarded, so on <c>"*"</c> it hides both receipt methods and leaves the rest
    /// alone, and on one receipt method it hides only that one.
    /// </summary>
    public sealed record HideReceipts : RpcFault;

    /// <summary>A well-formed but wrong answer: <c>result</c> is <paramref name="Json"/> (raw JSON), without forwarding.</summary>
    public sealed record Result(string Json) : RpcFault;

    /// <summary>The endpoint is down: answers HTTP 503 with an empty body, without forwarding.</summary>
    public sealed record Dead : RpcFault;

    /// <summary><c>eth_chainId</c> answers <paramref name="ChainId"/> without forwarding; every other method is forwarded.</summary>
    public sealed record WrongChainId(long ChainId) : RpcFault;

    /// <summary>
    /// Applies <paramref name="Inner"/> to the next <paramref name="Count"/> calls this rule is chosen for, then the rule
    /// removes itself: the method behaves as if it had no rule (so a <c>"*"</c> rule, if any, applies again).
    /// <paramref name="Inner"/> may not itself be a <see cref="Times"/>.
    /// </summary>
    public sealed record Times(int Count, RpcFault Inner) : RpcFault;
}
