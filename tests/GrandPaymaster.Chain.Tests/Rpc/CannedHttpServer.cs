using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace GrandPaymaster.Chain.Tests.Rpc;

/// <summary>What a <see cref="CannedHttpServer"/> does with one request.</summary>
public abstract record CannedReply
{
    /// <summary>HTTP 200 with this body, verbatim.</summary>
    public sealed record Body(string Text) : CannedReply;

    /// <summary>An HTTP status with an empty body.</summary>
    public sealed record Status(int Code) : CannedReply;

    /// <summary>Reads the request and never answers (until the server is disposed).</summary>
    public sealed record Silence : CannedReply;

    /// <summary>A JSON-RPC answer with this result.</summary>
    public static CannedReply Result(object result) =>
        new Body(JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, result }));

    /// <summary>A JSON-RPC error object.</summary>
    public static CannedReply Error(long code, string message) =>
        new Body(JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, error = new { code, message } }));

    /// <summary>The answer to <c>eth_chainId</c> for this chain.</summary>
    public static CannedReply ChainId(long chainId) => Result($"0x{chainId:x}");
}

/// <summary>
/// A loopback HTTP server that answers each JSON-RPC request as a handler says (by method), to feed clients bad,
/// slow or wrong answers. Counts the requests per method, so tests can show that an endpoint saw no I/O.
/// </summary>
public sealed class CannedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _loop;
    private volatile Func<string, CannedReply> _handler;

    private CannedHttpServer(Func<string, CannedReply> handler)
    {
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _loop = AcceptAsync();
    }

    public Uri Url { get; }

    /// <summary>Requests seen so far, over all methods.</summary>
    public int TotalRequests => _requests.Values.Sum();

    /// <summary>Answers every request with one fixed body.</summary>
    public static Task<CannedHttpServer> StartAsync(string body) => StartAsync(_ => new CannedReply.Body(body));

    /// <summary>Answers each request as <paramref name="handler"/> says for its JSON-RPC method.</summary>
    public static Task<CannedHttpServer> StartAsync(Func<string, CannedReply> handler) => Task.FromResult(new CannedHttpServer(handler));

    /// <summary>A node of the given chain that answers <c>eth_chainId</c> and, for every other method, as <paramref name="other"/> says.</summary>
    public static Task<CannedHttpServer> NodeAsync(long chainId, Func<string, CannedReply>? other = null) =>
        StartAsync(ChainHandler(chainId, other));

    public static Func<string, CannedReply> ChainHandler(long chainId, Func<string, CannedReply>? other = null) =>
        method => method == "eth_chainId" ? CannedReply.ChainId(chainId) : other?.Invoke(method) ?? CannedReply.Result("0x1");

    /// <summary>Changes how later requests are answered.</summary>
    public void AnswerWith(Func<string, CannedReply> handler) => _handler = handler;

    public int Requests(string method) => _requests.GetValueOrDefault(method);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // One task per connection, so a silent answer does not hold up the next request.
            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var body = await ReadRequestBodyAsync(stream);
                var method = MethodOf(body);
                _requests.AddOrUpdate(method, 1, (_, n) => n + 1);
                switch (_handler(method))
                {
                    case CannedReply.Silence:
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                        break;
                    case CannedReply.Status status:
                        await WriteAsync(stream, status.Code, []);
                        break;
                    case CannedReply.Body reply:
                        await WriteAsync(stream, 200, System.Text.Encoding.UTF8.GetBytes(reply.Text));
                        break;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
                // The client gave up or the server is stopping: nothing to answer.
            }
        }
    }

    private async Task<byte[]> ReadRequestBodyAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfHeaderEnd(buffer)) < 0)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) return [];
            buffer.AddRange(chunk.AsSpan(0, read));
        }

        var header = System.Text.Encoding.ASCII.GetString(buffer.ToArray(), 0, headerEnd);
        var length = header.Split("\r\n")
            .Where(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            .Select(line => int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();
        var bodyStart = headerEnd + 4;
        while (buffer.Count < bodyStart + length)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0) break;
            buffer.AddRange(chunk.AsSpan(0, read));
        }

        return buffer.Skip(bodyStart).ToArray();
    }

    private static int IndexOfHeaderEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
                return i;
        return -1;
    }

    private static string MethodOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("method", out var method) ? method.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private async Task WriteAsync(NetworkStream stream, int status, byte[] body)
    {
        var header = System.Text.Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(header, _stop.Token);
        await stream.WriteAsync(body, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        await Task.WhenAll(_connections);
        _stop.Dispose();
    }
}
