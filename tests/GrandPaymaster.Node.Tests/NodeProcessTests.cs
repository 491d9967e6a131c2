using System.Diagnostics;
using System.Globalization;
using System.Net;
using GrandPaymaster.Chain.Devnet;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The node as an operator runs it: a separate process with its own devnet chains, stopped with
/// Ctrl-C (SIGINT).
/// </summary>
public sealed class NodeProcessTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "gpm-node-process-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_node_with_devnet_gets_ready_and_ctrl_c_stops_it_and_both_chains()
    {
        var httpPort = DevnetChainSpec.FreeLoopbackPort();
        var chainPorts = new[] { DevnetChainSpec.FreeLoopbackPort(), DevnetChainSpec.FreeLoopbackPort() };
        Directory.CreateDirectory(_dataDirectory);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dataDirectory,
        };
        foreach (var arg in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "GrandPaymaster.Node.dll"),
                     "--contentRoot", _dataDirectory,
                     "--urls", $"http://127.0.0.1:{httpPort}",
                     "--Gpm:Node:Port=0",
                     "--Gpm:Devnet:Enabled=true",
                     $"--Gpm:Persistence:DataDirectory={_dataDirectory}",
                     "--Gpm:Chains:0:Name=devnet-a", "--Gpm:Chains:0:ChainId=31337", $"--Gpm:Chains:0:RpcUrls:0=http://127.0.0.1:{chainPorts[0]}",
                     "--Gpm:Chains:1:Name=devnet-b", "--Gpm:Chains:1:ChainId=31338", $"--Gpm:Chains:1:RpcUrls:0=http://127.0.0.1:{chainPorts[1]}",
                 })
            info.ArgumentList.Add(arg);

        using var node = Process.Start(info)!;
        node.OutputDataReceived += (_, _) => { };
        node.ErrorDataReceived += (_, _) => { };
        node.BeginOutputReadLine();
        node.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            await WaitForReadyAsync(http, node, TimeSpan.FromSeconds(60));
            var chains = ChildProcesses(node.Id).Where(p => p.Name == "anvil").ToArray();
            Assert.Equal(2, chains.Length);

            Signal(node.Id, "INT");
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(0, node.ExitCode);
            Assert.All(chains, chain => Assert.False(Directory.Exists($"/proc/{chain.Pid}"), $"anvil {chain.Pid} is still running"));
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitForReadyAsync(HttpClient http, Process node, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(node.HasExited, "the node exited before it became ready");
            try
            {
                using var response = await http.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"/health/ready did not answer 200 within {within.TotalSeconds} s");
    }

    /// <summary>Direct children of <paramref name="parentPid"/>, read from /proc (Linux).</summary>
    private static IEnumerable<(int Pid, string Name)> ChildProcesses(int parentPid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // Format: pid (comm) state ppid ... ; comm may contain spaces, so split after the last ')'.
            var close = stat.LastIndexOf(')');
            var name = stat[(stat.IndexOf('(') + 1)..close];
            var fields = stat[(close + 2)..].Split(' ');
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parentPid) yield return (pid, name);
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {pid}");
        kill.WaitForExit();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }
}
