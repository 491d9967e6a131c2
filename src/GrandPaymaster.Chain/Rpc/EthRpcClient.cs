using System.Net.Http.Headers;
using System.Numerics;

using System.Text.Json;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>
/// Async JSON-RPC 2.0 client for one EVM endpoint. Every call has a timeout (per call, else the
/// client's default) and honours the caller's cancellation; failures surface as the typed
/// <see cref="RpcException"/> family so callers can tell a revert from an outage. Exceptions name the
/// endpoint by its <see cref="Label"/>, never by its URL, which can carry a provider key.
/// </summary>
public sealed class EthRpcClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private readonly HttpClient _http;
    private long _nextId;

    /// <param name="http">Shared, long-lived client; its own <see cref="HttpClient.Timeout"/> should be infinite.</param>
    /// <param name="label">How exceptions and health reports name this endpoint (e.g. <c>devnet-a#0</c>);
    /// by default <c>scheme://host:port</c>, without the path, query or user info where providers put keys.</param>
    public EthRpcClient(HttpClient http, Uri endpoint, TimeSpan? defaultTimeout = null, string? label = null)
    {
        _http = http;
        Endpoint = endpoint;
        DefaultTimeout = defaultTimeout ?? TimeSpan.FromSeconds(10);
        Label = string.IsNullOrWhiteSpace(label) ? RpcRedaction.DefaultLabel(endpoint) : label;
    }

    /// <summary>The full URL, for the HTTP call only: never log or show it (it can carry a provider key).</summary>
    public Uri Endpoint { get; }

    /// <summary>The endpoint's name in exceptions, logs and health reports.</summary>
    public string Label { get; }

    public TimeSpan DefaultTimeout { get; }

    public async Task<long> ChainIdAsync(CancellationToken ct = default)
    {
        var id = await QuantityAsync("eth_chainId", [], ct);
        return Parse("eth_chainId", () => checked((long)id));
    }

    public Task<BigInteger> BlockNumberAsync(CancellationToken ct = default) => QuantityAsync("eth_blockNumber", [], ct);

    public Task<BigInteger> GasPriceAsync(CancellationToken ct = default) => QuantityAsync("eth_gasPrice", [], ct);

    public Task<BigInteger> MaxPriorityFeePerGasAsync(CancellationToken ct = default) =>
        QuantityAsync("eth_maxPriorityFeePerGas", [], ct);

    public Task<BigInteger> GetBalanceAsync(string address, BlockTag? block = null, CancellationToken ct = default) =>
        QuantityAsync("eth_getBalance", [address, (block ?? BlockTag.Latest).Value], ct);

    public Task<BigInteger> GetTransactionCountAsync(string address, BlockTag? block = null, CancellationToken ct = default) =>
        QuantityAsync("eth_getTransactionCount", [address, (block ?? BlockTag.Latest).Value], ct);

    public Task<BigInteger> EstimateGasAsync(CallRequest call, CancellationToken ct = default) =>
        QuantityAsync("eth_estimateGas", [call.ToJson()], ct);

    public async Task<byte[]> CallAsync(CallRequest call, BlockTag? block = null, CancellationToken ct = default)
    {
        var result = await RequestAsync("eth_call", [call.ToJson(), (block ?? BlockTag.Latest).Value], ct: ct);
        return Decode("eth_call", ReadString(result, "eth_call"));
    }

    /// <summary>Broadcasts a signed transaction; returns its hash as the node reports it.</summary>
    public async Task<string> SendRawTransactionAsync(byte[] rawTransaction, CancellationToken ct = default) =>
        ReadString(await RequestAsync("eth_sendRawTransaction", [Hex.Encode(rawTransaction)], ct: ct), "eth_sendRawTransaction");

    /// <summary>The receipt, or null while the transaction is not mined.</summary>
    public async Task<TransactionReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken ct = default)
    {
        const string method = "eth_getTransactionReceipt";
        var r = await RequestAsync(method, [transactionHash], ct: ct);
        return r.ValueKind == JsonValueKind.Null ? null : Parse(method, () => ReadReceipt(r));
    }

    /// <summary>
    /// Every receipt of a block in one call (<c>eth_getBlockReceipts</c>), or null when the node does not have the
    /// block (not yet mined, or a lagging node).
    /// </summary>
    public async Task<IReadOnlyList<TransactionReceipt>?> GetBlockReceiptsAsync(BlockTag block, CancellationToken ct = default)
    {
        const string method = "eth_getBlockReceipts";
        var receipts = await RequestAsync(method, [block.Value], ct: ct);
        return receipts.ValueKind == JsonValueKind.Null ? null : Parse(method, () => receipts.EnumerateArray().Select(ReadReceipt).ToArray());
    }

    /// <summary>The number of the block holding the transaction; null while it is pending or unknown to the node.</summary>
    /// <summary>Whether the node knows the transaction at all (pending in its mempool or mined).</summary>
    public async Task<bool> KnowsTransactionAsync(string transactionHash, CancellationToken ct = default) =>
        (await RequestAsync("eth_getTransactionByHash", [transactionHash], ct: ct)).ValueKind == JsonValueKind.Object;

    public async Task<BigInteger?> GetTransactionBlockNumberAsync(string transactionHash, CancellationToken ct = default)
    {
        const string method = "eth_getTransactionByHash";
        var tx = await RequestAsync(method, [transactionHash], ct: ct);
        if (tx.ValueKind == JsonValueKind.Null) return null;
        return Parse(method, () => OptStr(tx, "blockNumber") is { } number ? Hex.ParseQuantity(number) : (BigInteger?)null);
    }

    private static TransactionReceipt ReadReceipt(JsonElement r) => new(
        Str(r, "transactionHash"),
        Qty(r, "blockNumber"),
        Str(r, "blockHash"),
        Str(r, "from"),
        OptStr(r, "to"),
        OptStr(r, "contractAddress"),
        Qty(r, "gasUsed"),
        Qty(r, "effectiveGasPrice"),
        Qty(r, "cumulativeGasUsed"),
        Qty(r, "status") == BigInteger.One,
        OptStr(r, "type") is { } type ? (int)Hex.ParseQuantity(type) : 0,
        r.TryGetProperty("logs", out var logs) && logs.ValueKind == JsonValueKind.Array ? logs.EnumerateArray().Select(ReadLog).ToArray() : []);

    private static ReceiptLog ReadLog(JsonElement log) => new(
        Str(log, "address"),
        log.TryGetProperty("topics", out var topics) && topics.ValueKind == JsonValueKind.Array
            ? topics.EnumerateArray().Select(t => t.GetString() ?? throw new FormatException("null topic")).ToArray()
            : [],
        OptStr(log, "data") ?? "0x");

    /// <summary>The block's header and transaction hashes, or null when it does not exist yet.</summary>
    public async Task<BlockHeader?> GetBlockByNumberAsync(BlockTag block, CancellationToken ct = default)
    {
        const string method = "eth_getBlockByNumber";
        var b = await RequestAsync(method, [block.Value, false], ct: ct);
        if (b.ValueKind == JsonValueKind.Null) return null;
        return Parse(method, () => new BlockHeader(
            Qty(b, "number"),
            Str(b, "hash"),
            DateTimeOffset.FromUnixTimeSeconds((long)Qty(b, "timestamp")),
            Qty(b, "gasLimit"),
            Qty(b, "gasUsed"),
            OptStr(b, "baseFeePerGas") is { } fee ? Hex.ParseQuantity(fee) : null,
            b.GetProperty("transactions").EnumerateArray().Select(t => t.GetString() ?? throw new FormatException("null tx hash")).ToArray()));
    }

    public async Task<FeeHistory> FeeHistoryAsync(int blockCount, BlockTag? newest = null, IReadOnlyList<double>? rewardPercentiles = null,
        CancellationToken ct = default)
    {
        const string method = "eth_feeHistory";
        var h = await RequestAsync(method, [Hex.FormatQuantity(blockCount), (newest ?? BlockTag.Latest).Value, rewardPercentiles ?? []], ct: ct);
        return Parse(method, () => new FeeHistory(
            Qty(h, "oldestBlock"),
            h.GetProperty("baseFeePerGas").EnumerateArray().Select(QtyOf).ToArray(),
            h.GetProperty("gasUsedRatio").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            h.TryGetProperty("reward", out var reward)
                ? reward.EnumerateArray().Select(row => (IReadOnlyList<BigInteger>)row.EnumerateArray().Select(QtyOf).ToArray()).ToArray()
                : []));
    }

    public async Task<TxPoolStatus> TxPoolStatusAsync(CancellationToken ct = default)
    {
        const string method = "txpool_status";
        var s = await RequestAsync(method, [], ct: ct);
        return Parse(method, () => new TxPoolStatus(Qty(s, "pending"), Qty(s, "queued")));
    }

    /// <summary>
    /// Sends one JSON-RPC request and returns its <c>result</c>. Use the typed methods above; this is
    /// public for node-specific methods (<c>anvil_*</c>, <c>evm_mine</c>) that tests and the devnet need.
    /// </summary>
    public async Task<JsonElement> RequestAsync(string method, object?[] parameters, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var limit = timeout ?? DefaultTimeout;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(limit);

        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            jsonrpc = "2.0",
            id = Interlocked.Increment(ref _nextId),
            method,
            @params = parameters,
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = JsonContentType } },
        };

        byte[] payload;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeoutCts.Token);
            payload = await response.Content.ReadAsByteArrayAsync(timeoutCts.Token);
            var status = (int)response.StatusCode;
            // A 5xx or 429 says the endpoint cannot serve now, whatever its body: that is an outage to fail over
            // from, not the node's answer to this request.
            if (status >= 500 || status == 429 || (!response.IsSuccessStatusCode && payload.Length == 0))
                throw new RpcTransportException(method, Label, $"HTTP {status}", statusCode: status);
            if (!response.IsSuccessStatusCode && !LooksLikeJson(payload))
                throw new RpcTransportException(method, Label, $"HTTP {status}: {Preview(payload)}", statusCode: status);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new RpcTimeoutException(method, Label, limit);
        }
        catch (HttpRequestException e)
        {
            throw new RpcTransportException(method, Label, RpcRedaction.Redact(e.Message), e);
        }

        return ReadResult(method, payload);
    }

    private JsonElement ReadResult(string method, byte[] payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload);
        }
        catch (JsonException e)
        {
            throw new RpcMalformedResponseException(method, Label, $"not JSON: {Preview(payload)}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RpcMalformedResponseException(method, Label, $"expected a JSON-RPC object: {Preview(payload)}");
            if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
                throw ToError(method, error);
            if (!root.TryGetProperty("result", out var result))
                throw new RpcMalformedResponseException(method, Label, $"neither result nor error: {Preview(payload)}");
            return result.Clone();
        }
    }

    private RpcException ToError(string method, JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object ||
            !error.TryGetProperty("code", out var codeElement) || codeElement.ValueKind != JsonValueKind.Number
            || !codeElement.TryGetInt64(out var code))
            return new RpcMalformedResponseException(method, Label, $"error without a numeric code: {RpcRedaction.Redact(error.GetRawText())}");
        var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
        string? data = error.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null
            ? d.ValueKind == JsonValueKind.String ? d.GetString() : d.GetRawText()
            : null;

        // Geth and anvil report reverts as code 3 with the revert data, or as "execution reverted" text.
        var reverted = code == 3 || message.Contains("revert", StringComparison.OrdinalIgnoreCase);
        return reverted
            ? new RpcRevertException(method, Label, code, message, data, RevertReason.TryDecode(data))
            : new RpcErrorException(method, Label, code, message, data);
    }

    private async Task<BigInteger> QuantityAsync(string method, object?[] parameters, CancellationToken ct)
    {
        var text = ReadString(await RequestAsync(method, parameters, ct: ct), method);
        return Parse(method, () => Hex.ParseQuantity(text));
    }

    private string ReadString(JsonElement element, string method) =>
        element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw new RpcMalformedResponseException(method, Label, $"expected a string result, got {element.ValueKind}");

    private byte[] Decode(string method, string hex) => Parse(method, () => Hex.Decode(hex));

    private T Parse<T>(string method, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            throw new RpcMalformedResponseException(method, Label, RpcRedaction.Redact(e.Message), e);
        }
    }

    private static string Str(JsonElement e, string name) =>
        e.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null");

    private static string? OptStr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static BigInteger Qty(JsonElement e, string name) => Hex.ParseQuantity(Str(e, name));

    private static BigInteger QtyOf(JsonElement e) => Hex.ParseQuantity(e.GetString() ?? throw new FormatException("null quantity"));

    private static bool LooksLikeJson(byte[] payload) => payload.Length > 0 && (payload[0] == (byte)'{' || payload[0] == (byte)'[');

    /// <summary>The start of a body we could not read, redacted: enough to recognise it in a log.</summary>
    private static string Preview(byte[] payload) =>
        RpcRedaction.Redact(System.Text.Encoding.UTF8.GetString(payload, 0, Math.Min(payload.Length, RpcRedaction.MaxLength * 4)));
}
