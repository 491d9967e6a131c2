namespace GrandPaymaster.Chain.Rpc;

/// <summary>
/// Base of every failure of a JSON-RPC call; says which method on which endpoint. The endpoint is named by
/// its label, never by its URL (which can carry a provider key), and every text in <see cref="Exception.Message"/>
/// that came from the node or the HTTP stack has gone through <see cref="RpcRedaction.Redact"/>.
/// </summary>
public abstract class RpcException : Exception
{
    protected RpcException(string method, string endpointLabel, string message, Exception? inner = null)
        : base($"{method} at {endpointLabel}: {message}", inner)
    {
        Method = method;
        EndpointLabel = endpointLabel;
    }

    /// <summary>For failures that are about no single call or endpoint (see <see cref="NoEndpointAvailableException"/>).</summary>
    protected RpcException(string message)
        : base(message)
    {
        Method = "";
        EndpointLabel = "";
    }

    /// <summary>The JSON-RPC method, or empty when the failure is not about one call.</summary>
    public string Method { get; }

    /// <summary>The endpoint's configured label (or <c>scheme://host:port</c>), or empty when the failure is not about one endpoint.</summary>
    public string EndpointLabel { get; }
}

/// <summary>
/// The node answered with a JSON-RPC error object. <see cref="RpcMessage"/> is the node's raw text, kept for
/// classification (<see cref="BroadcastClassifier"/>); pass it through <see cref="RpcRedaction.Redact"/> before
/// logging it.
/// </summary>
public class RpcErrorException(string method, string endpointLabel, long code, string rpcMessage, string? data)
    : RpcException(method, endpointLabel, $"RPC error {code}: {RpcRedaction.Redact(rpcMessage)}")
{
    public long Code { get; } = code;

    /// <summary>The node's own, unredacted message.</summary>
    public string RpcMessage { get; } = rpcMessage;

    /// <summary>The error's <c>data</c> member as raw JSON text or hex string, when the node sent one.</summary>
    public string? ErrorData { get; } = data;
}

/// <summary>
/// The call ran and reverted (<c>eth_call</c> / <c>eth_estimateGas</c>). <see cref="Reason"/> is the
/// decoded <c>Error(string)</c> message when the revert carried one.
/// </summary>
public sealed class RpcRevertException(string method, string endpointLabel, long code, string rpcMessage, string? data, string? reason)
    : RpcErrorException(method, endpointLabel, code, rpcMessage, data)
{
    public string? Reason { get; } = reason;
}

/// <summary>No answer within the call's timeout.</summary>
public sealed class RpcTimeoutException(string method, string endpointLabel, TimeSpan timeout)
    : RpcException(method, endpointLabel, $"no answer within {timeout.TotalMilliseconds:0} ms")
{
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>
/// The endpoint could not be reached, or answered with an HTTP status that is not a JSON-RPC answer
/// (<see cref="StatusCode"/> then says which).
/// </summary>
public sealed class RpcTransportException(string method, string endpointLabel, string message, Exception? inner = null, int? statusCode = null)
    : RpcException(method, endpointLabel, message, inner)
{
    /// <summary>The HTTP status the endpoint answered with, or null when no HTTP answer arrived.</summary>
    public int? StatusCode { get; } = statusCode;
}

/// <summary>The endpoint answered, but not with a JSON-RPC response we can read.</summary>
public sealed class RpcMalformedResponseException(string method, string endpointLabel, string message, Exception? inner = null)
    : RpcException(method, endpointLabel, message, inner);

/// <summary>
/// Every endpoint of the chain is unavailable (its breaker open or on the wrong chain), so nothing was sent.
/// Names the chain, never an endpoint.
/// </summary>
public sealed class NoEndpointAvailableException(long chainId)
    : RpcException($"no RPC endpoint available for chain {chainId}")
{
    public long ChainId { get; } = chainId;
}
