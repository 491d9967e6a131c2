using System.Net;
using System.Net.Sockets;


namespace GrandPaymaster.Chain.Tests.Rpc;

/// <summary>A loopback HTTP server that answers every request with one fixed body, to feed the client bad responses.</summary>
public sealed class CannedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private CannedHttpServer(string body)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _loop = ServeAsync(System.Text.Encoding.UTF8.GetBytes(body));
    }

    public Uri Url { get; }

    public static Task<CannedHttpServer> StartAsync(string body) => Task.FromResult(new CannedHttpServer(body));

    private async Task ServeAsync(byte[] body)
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

            using (client)
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var request = new System.Text.StringBuilder();
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0) break;
                    request.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
                }

                var header = System.Text.Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(header);
                await stream.WriteAsync(body);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
