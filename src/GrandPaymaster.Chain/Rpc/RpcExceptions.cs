namespace GrandPaymaster.Chain.Rpc;

/// <summary>Base of every failure of a JSON-RPC call; says which method on which endpoint.</summary>
public abstract class RpcException(string method, Uri endpoint, string message, Exception? inner = null)
    : Exception($"{method} at {endpoint}: {message}", inner)
{
    public string Method { get; } = method;
    public Uri Endpoint { get; } = endpoint;
}

/// <summary>The node answered with a JSON-RPC error object.</summary>
public class RpcErrorException(string method, Uri endpoint, long code, string rpcMessage, string? data)
    : RpcException(method, endpoint, $"RPC error {code}: {rpcMessage}")
{
    public long Code { get; } = code;
    public string RpcMessage { get; } = rpcMessage;

    /// <summary>The error's <c>data</c> member as raw JSON text or hex string, when the node sent one.</summary>
    public string? ErrorData { get; } = data;
}

/// <summary>
/// The call ran and reverted (<c>eth_call</c> / <c>eth_estimateGas</c>). <see cref="Reason"/> is the
/// decoded <c>Error(string)</c> message when the revert carried one.
/// </summary>
public sealed class RpcRevertException(string method, Uri endpoint, long code, string rpcMessage, string? data, string? reason)
    : RpcErrorException(method, endpoint, code, rpcMessage, data)
{
    public string? Reason { get; } = reason;
}

/// <summary>No answer within the call's timeout.</summary>
public sealed class RpcTimeoutException(string method, Uri endpoint, TimeSpan timeout)
    : RpcException(method, endpoint, $"no answer within {timeout.TotalMilliseconds:0} ms")
{
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>The endpoint could not be reached or answered with a non-success HTTP status.</summary>
public sealed class RpcTransportException(string method, Uri endpoint, string message, Exception? inner = null)
    : RpcException(method, endpoint, message, inner);

/// <summary>The endpoint answered, but not with a JSON-RPC response we can read.</summary>
public sealed class RpcMalformedResponseException(string method, Uri endpoint, string message, Exception? inner = null)
    : RpcException(method, endpoint, message, inner);
