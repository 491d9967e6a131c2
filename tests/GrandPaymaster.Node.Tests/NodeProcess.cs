using System.Globalization;
using System.Diagnostics;
using System.Net;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The node as an operator runs it: <c>dotnet GrandPaymaster.Node.dll</c> in a child process, so a test
/// can stop it with Ctrl-C (SIGINT) or kill it outright (SIGKILL).
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();

    private NodeProcess(Process process, int httpPort)
    {
        _process = process;
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is { } text) _output.Enqueue(text);
        };
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
    }

    public HttpClient Http { get; }

    /// <summary>What the node wrote to standard output so far, line by line.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>What the node wrote to standard error so far (an exception that stopped it at start, say).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    public bool WaitForExit(TimeSpan within) => _process.WaitForExit(within);

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static NodeProcess Start(string dataDirectory, int httpPort, IEnumerable<(string Name, long ChainId, Uri RpcUrl)> chains, params string[] extraArgs)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        var args = TestNode.Arguments(dataDirectory, $"http://127.0.0.1:{httpPort}", chains);
        args.Insert(0, Path.Combine(AppContext.BaseDirectory, "GrandPaymaster.Node.dll"));
        args.AddRange(extraArgs);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        // Drain the pipes so the node never blocks on a full pipe (both are kept: see Output and Errors).
        var node = new NodeProcess(process, httpPort);
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text) node._errors.Enqueue(text);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public async Task WaitForReadyAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_process.HasExited, "the node exited before it became ready");
            try
            {
                using var response = await Http.GetAsync("/health/ready");
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

    /// <summary>Ctrl-C: SIGINT, then wait for a clean exit.</summary>
    public async Task InterruptAsync(TimeSpan within)
    {
        using (var kill = Process.Start("kill", $"-INT {_process.Id}")) await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(within);
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing — a crash.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>Direct children of the node, read from /proc (Linux).</summary>
    public IEnumerable<(int Pid, string Name)> Children()
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
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == _process.Id) yield return (pid, name);
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
