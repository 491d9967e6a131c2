using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GrandPaymaster.Node.Tests.Faults;

/// <summary>
/// A loopback HTTP server (Kestrel, free port) that forwards JSON-RPC POST bodies unchanged to one upstream (anvil)
/// and answers with the upstream's status and body, except where an <see cref="RpcFault"/> rule for the call's
/// <c>method</c> says otherwise. Rules can be switched from any thread while calls are in flight; a call uses the
/// rule in force when it arrived. A body that is not a JSON object with a string <c>method</c> (not JSON, a batch) is
/// forwarded as is and not counted. An unreachable upstream is answered with HTTP 502 and an empty body.
/// </summary>
public sealed class RpcFaultProxy : IAsyncDisposable
{
    /// <summary>The rule key that matches every method without a rule of its own.</summary>
    public const string AnyMethod = "*";

    /// <summary>How many methods <see cref="Seen"/> keeps, most recent last.</summary>
    public const int SeenCapacity = 10_000;

    private static readonly byte[] GarbageBody = "<html><body>this is not JSON</body></html>"u8.ToArray();
    private static readonly HashSet<string> ReceiptMethods = ["eth_getTransactionReceipt", "eth_getBlockReceipts"];

    private readonly Uri _upstream;
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Rule> _rules = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal); // guarded by _gate
    private readonly Queue<string> _seen = new(); // guarded by _gate
    private readonly List<CallWaiter> _waiters = []; // guarded by _gate
    private int _totalCalls; // guarded by _gate
    private int _disposed;
    private WebApplication? _app;

    private RpcFaultProxy(Uri upstream) => _upstream = upstream;

    /// <summary>The proxy's own address, e.g. <c>http://127.0.0.1:40123/</c>: point the client under test here.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Every JSON-RPC method received, in arrival order (the last <see cref="SeenCapacity"/>), as a snapshot.</summary>
    public IReadOnlyList<string> Seen
    {
        get
        {
            lock (_gate) return _seen.ToArray();
        }
    }

    /// <summary>Starts a proxy for <paramref name="upstream"/> on a free loopback port.</summary>
    public static async Task<RpcFaultProxy> StartAsync(Uri upstream)
    {
        var proxy = new RpcFaultProxy(upstream);
        // The empty builder reads no appsettings.json (the node's sits in the test output) and logs nothing.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        proxy._app = app;
        proxy.Url = new Uri(app.Urls.Single());
        return proxy;
    }

    /// <summary>Replaces the rule for <paramref name="method"/> (or <see cref="AnyMethod"/>).</summary>
    public void Set(string method, RpcFault fault)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(fault);
        switch (fault)
        {
            case RpcFault.Times { Count: < 1 } times:
                throw new ArgumentOutOfRangeException(nameof(fault), times.Count, "Times needs a positive count.");
            case RpcFault.Times { Inner: RpcFault.Times }:
                throw new ArgumentException("Times cannot wrap another Times.", nameof(fault));
            case RpcFault.Latency { Delay: var delay } when delay < TimeSpan.Zero:
                throw new ArgumentOutOfRangeException(nameof(fault), delay, "Latency cannot be negative.");
        }

        _rules[method] = new Rule(fault);
    }

    /// <summary>Removes the rule for <paramref name="method"/>; calls already being delayed or held keep their fault.</summary>
    public void Clear(string method) => _rules.TryRemove(method, out _);

    /// <summary>Removes every rule, <see cref="AnyMethod"/> included.</summary>
    public void ClearAll() => _rules.Clear();

    /// <summary>
    /// How many calls of <paramref name="method"/> arrived, faulted or not (counted on arrival, so a held call counts);
    /// <see cref="AnyMethod"/> gives the total over all methods.
    /// </summary>
    public int Calls(string method)
    {
        lock (_gate) return CallsLocked(method);
    }

    /// <summary>
    /// Completes once <see cref="Calls"/> of <paramref name="method"/> reaches <paramref name="count"/>: lets a test wait
    /// until a call it cannot await (one held by <see cref="RpcFault.Drop"/>, one the node makes) has arrived.
    /// </summary>
    public Task WaitForCallsAsync(string method, int count, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (CallsLocked(method) >= count) return Task.CompletedTask;
            var waiter = new CallWaiter(method, count, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.Add(waiter);
            return waiter.Arrived.Task.WaitAsync(ct);
        }
    }

    /// <summary>Releases held calls (their connections are reset), then stops the server. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var ct = linked.Token;
        try
        {
            var body = await ReadBodyAsync(context.Request, ct);
            if (JsonRpcCall.TryRead(body) is not { } call)
            {
                await ForwardAsync(context, body, ct);
                return;
            }

            // The rule is taken before the call is counted: a test that waits for the call knows which rule it got.
            var fault = Resolve(call.Method);
            Record(call.Method);
            await ApplyAsync(context, fault, call, body, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client gave up or the proxy is stopping: nobody waits for an answer.
            context.Abort();
        }
    }

    private async Task ApplyAsync(HttpContext context, RpcFault? fault, JsonRpcCall call, byte[] body, CancellationToken ct)
    {
        switch (fault)
        {
            case RpcFault.Latency latency:
                await DelayAtLeastAsync(latency.Delay, ct);
                await ForwardAsync(context, body, ct);
                break;
            case RpcFault.Drop:
                await Task.Delay(Timeout.Infinite, ct);
                break;
            case RpcFault.Error error:
                await AnswerAsync(context, StatusCodes.Status200OK, "application/json", call.ErrorAnswer(error.Code, error.Message), ct);
                break;
            case RpcFault.Garbage:
                await AnswerAsync(context, StatusCodes.Status200OK, "text/html", GarbageBody, ct);
                break;
            case RpcFault.ForwardThenError error:
                await SendUpstreamAsync(context.Request.ContentType, body, ct);
                await AnswerAsync(context, StatusCodes.Status200OK, "application/json", call.ErrorAnswer(error.Code, error.Message), ct);
                break;
            case RpcFault.HideReceipts when ReceiptMethods.Contains(call.Method):
                await AnswerAsync(context, StatusCodes.Status200OK, "application/json", call.ResultAnswer("null"), ct);
                break;
            case RpcFault.Result result:
                await AnswerAsync(context, StatusCodes.Status200OK, "application/json", call.ResultAnswer(result.Json), ct);
                break;
            case RpcFault.Dead:
                await AnswerAsync(context, StatusCodes.Status503ServiceUnavailable, null, [], ct);
                break;
            case RpcFault.WrongChainId wrong when call.Method == "eth_chainId":
                var quantity = "\"0x" + wrong.ChainId.ToString("x", CultureInfo.InvariantCulture) + "\"";
                await AnswerAsync(context, StatusCodes.Status200OK, "application/json", call.ResultAnswer(quantity), ct);
                break;
            default:
                await ForwardAsync(context, body, ct);
                break;
        }
    }

    /// <summary>The fault for one arriving call; consumes one use of a <see cref="RpcFault.Times"/> rule.</summary>
    private RpcFault? Resolve(string method)
    {
        while (true)
        {
            var key = method;
            if (!_rules.TryGetValue(key, out var rule))
            {
                key = AnyMethod;
                if (!_rules.TryGetValue(key, out rule)) return null;
            }

            if (rule.Fault is not RpcFault.Times times) return rule.Fault;
            var left = Interlocked.Decrement(ref rule.Remaining);
            // Only this exact rule instance is removed, so a Set racing with the last use is kept.
            if (left <= 0) _rules.TryRemove(KeyValuePair.Create(key, rule));
            if (left >= 0) return times.Inner;
        }
    }

    private void Record(string method)
    {
        lock (_gate)
        {
            _totalCalls++;
            _calls[method] = _calls.GetValueOrDefault(method) + 1;
            if (_seen.Count == SeenCapacity) _seen.Dequeue();
            _seen.Enqueue(method);
            foreach (var waiter in _waiters.Where(w => CallsLocked(w.Method) >= w.Count).ToList())
            {
                waiter.Arrived.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private int CallsLocked(string method) => method == AnyMethod ? _totalCalls : _calls.GetValueOrDefault(method);

    private async Task ForwardAsync(HttpContext context, byte[] body, CancellationToken ct)
    {
        var answer = await SendUpstreamAsync(context.Request.ContentType, body, ct);
        if (answer is null)
            await AnswerAsync(context, StatusCodes.Status502BadGateway, null, [], ct);
        else
            await AnswerAsync(context, answer.Status, answer.ContentType, answer.Body, ct);
    }

    /// <summary>The upstream's answer, or null when it cannot be reached.</summary>
    private async Task<UpstreamAnswer?> SendUpstreamAsync(string? contentType, byte[] body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _upstream)
        {
            Content = new ByteArrayContent(body)
            {
                Headers = { ContentType = MediaTypeHeaderValue.TryParse(contentType, out var type) ? type : new MediaTypeHeaderValue("application/json") },
            },
        };
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
            return new UpstreamAnswer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(),
                await response.Content.ReadAsByteArrayAsync(ct));
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    private static async Task AnswerAsync(HttpContext context, int status, string? contentType, byte[] body, CancellationToken ct)
    {
        context.Response.StatusCode = status;
        if (contentType is not null) context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, ct);
    }

    /// <summary>Task.Delay may wake a little early on a coarse timer; tests assert the delay as a lower bound.</summary>
    private static async Task DelayAtLeastAsync(TimeSpan delay, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        for (var left = delay; left > TimeSpan.Zero; left = delay - clock.Elapsed)
            await Task.Delay(left, ct);
    }

    /// <summary>One rule; <see cref="Remaining"/> counts down the uses of a <see cref="RpcFault.Times"/>.</summary>
    private sealed class Rule(RpcFault fault)
    {
        public readonly RpcFault Fault = fault;
        public int Remaining = fault is RpcFault.Times times ? times.Count : 0;
    }

    private sealed record CallWaiter(string Method, int Count, TaskCompletionSource Arrived);

    private sealed record UpstreamAnswer(int Status, string? ContentType, byte[] Body);

    /// <summary>The parts of a JSON-RPC request the proxy needs: its method, and its id as raw JSON.</summary>
    private sealed record JsonRpcCall(string Method, string RawId)
    {
        public static JsonRpcCall? TryRead(byte[] body)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object ||
                    !root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
                    return null;
                return new JsonRpcCall(method.GetString()!, root.TryGetProperty("id", out var id) ? id.GetRawText() : "null");
            }
            catch (JsonException)
            {
                return null;
            }
        }

        public byte[] ErrorAnswer(long code, string message) => Write(json =>
        {
            json.WriteStartObject("error");
            json.WriteNumber("code", code);
            json.WriteString("message", message);
            json.WriteEndObject();
        });

        public byte[] ResultAnswer(string rawResult) => Write(json =>
        {
            json.WritePropertyName("result");
            json.WriteRawValue(rawResult);
        });

        private byte[] Write(Action<Utf8JsonWriter> payload)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("jsonrpc", "2.0");
                json.WritePropertyName("id");
                json.WriteRawValue(RawId);
                payload(json);
                json.WriteEndObject();
            }

            return buffer.ToArray();
        }
    }
}
