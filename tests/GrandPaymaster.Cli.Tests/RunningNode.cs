using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace GrandPaymaster.Cli.Tests;

/// <summary>
/// A node as an operator runs it: <c>dotnet GrandPaymaster.Node.dll</c> in its own process with the devnet on (it starts
/// two anvil chains, funds the pools and deploys the contracts), a SQLite journal in a temporary directory. Stopped with
/// Ctrl-C (SIGINT), which also stops its chains.
/// </summary>
public sealed class RunningNode : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-cli-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private Process? _process;

    public Uri Url { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    /// <summary>What the node wrote (standard output and error), for a failing test's message.</summary>
    public string Log => string.Join('\n', _log.TakeLast(60));

    public static string NodeAssembly => Metadata("NodeAssembly");
    public static string GpmAssembly => Metadata("GpmAssembly");

    private static string Metadata(string key) => Path.GetFullPath(typeof(RunningNode).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);

    /// <summary>The operator gpm acts as: the devnet's first admin, whose token the node wrote to <c>operator.token</c> (as for a new user).</summary>
    public const string AdminId = "devops";

    /// <summary>The admin token gpm uses: what the devnet node wrote to <c>operator.token</c> in its data directory at its first start.</summary>
    public async Task<string> AdminTokenAsync()
    {
        var path = Path.Combine(_dataDirectory, "operator.token");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the devnet node wrote no {path}:\n{Log}");
            await Task.Delay(100);
        }

        return (await File.ReadAllTextAsync(path)).Trim();
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        var port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dataDirectory };
        foreach (var arg in new[]
                 {
                     NodeAssembly,
                     // The data directory doubles as content root, so the node's own appsettings.json does not leak in.
                     "--contentRoot", _dataDirectory,
                     "--urls", Url.ToString().TrimEnd('/'),
                     "--Gpm:Node:Port=0",
                     $"--Gpm:Persistence:DataDirectory={_dataDirectory}",
                     "--Gpm:Devnet:Enabled=true",
                     // The public devnet bootstrap token (loopback only): the devnet node creates its first admin with it.
                     "--Gpm:Admin:BootstrapToken=dev-operator-token",
                     "--Logging:LogLevel:Default=Warning",
                 })
            info.ArgumentList.Add(arg);
        foreach (var (i, name, chainId) in new[] { (0, "devnet-a", 31337L), (1, "devnet-b", 31338L) })
        {
            info.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:Name={name}"));
            info.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:ChainId={chainId}"));
            info.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--Gpm:Chains:{i}:RpcUrls:0=http://127.0.0.1:{FreePort()}"));
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, line) => { if (line.Data is { } text) _log.Enqueue(text); };
        _process.ErrorDataReceived += (_, line) => { if (line.Data is { } text) _log.Enqueue(text); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Http = new HttpClient { BaseAddress = Url };

        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            Assert.False(_process.HasExited, $"the node exited before it became ready:\n{Log}");
            try
            {
                using var ready = await Http.GetAsync("/health/ready");
                if (ready.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"/health/ready did not answer 200 within 120 s:\n{Log}");
            await Task.Delay(250);
        }
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_process is { HasExited: false })
        {
            // Ctrl-C: the node stops its anvil chains on the way out; a node that hangs is killed with its children.
            using (var interrupt = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)])) await interrupt.WaitForExitAsync();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process?.Dispose();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
