using System.Diagnostics;

namespace GrandPaymaster.Node.Tests;

/// <summary>The README's curl walk-through, run verbatim with bash against a real node and anvil.</summary>
[Collection(NodeCollection.Name)]
public sealed class ReadmeWalkthroughTests(NodeFixture fixture)
{
    [Fact]
    public async Task The_readme_walkthrough_registers_funds_quotes_signs_executes_and_sees_the_user_counted_by_the_recipient()
    {
        var script = WalkthroughScript();
        var workDirectory = Directory.CreateTempSubdirectory("gpm-walkthrough-").FullName;
        var info = new ProcessStartInfo("bash", ["-euo", "pipefail", "-c", script])
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["BASE"] = fixture.Node.Http.BaseAddress!.ToString().TrimEnd('/'),
                ["RPC"] = fixture.Chains.Chains.Single(c => c.Spec.ChainId == 31337).RpcUrl.ToString(),
                ["GPM_TOKEN"] = fixture.Client.OperatorToken,
                ["GPM_REPO"] = Path.GetDirectoryName(FindUp("README.md"))!,
            },
        };

        using var bash = Process.Start(info)!;
        var output = bash.StandardOutput.ReadToEndAsync();
        var errors = bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var text = await output;

        Assert.True(bash.ExitCode == 0, $"walk-through failed ({bash.ExitCode}): {await errors}\n{text}");
        Assert.Contains("\"apiKey\":\"gpm_", text);
        Assert.Contains("\"status\":\"settled\"", text);
        Assert.Contains("\"stage\":\"confirmed\"", text);
        Assert.Contains("\"status\":\"0x1\"", text); // anvil's receipt: mined and succeeded
        Assert.Contains("\"callType\":\"forwarded\"", text);
        // SenderRecorder.calls(user) read from anvil: the recipient counted the user who signed, once.
        Assert.Contains("\"result\":\"0x0000000000000000000000000000000000000000000000000000000000000001\"", text);
        var apiKey = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(workDirectory, "dapp.json"))).RootElement.GetProperty("apiKey").GetString()!;
        LedgerLaw.AssertHolds(await fixture.Client.BalancesAsync(apiKey));
        Directory.Delete(workDirectory, recursive: true);
    }

    private static string WalkthroughScript()
    {
        var readme = FindUp("README.md");
        var text = File.ReadAllText(readme);
        var marker = text.IndexOf("<!-- walkthrough -->", StringComparison.Ordinal);
        Assert.True(marker >= 0, "README.md has no <!-- walkthrough --> block");
        var start = text.IndexOf("```bash\n", marker, StringComparison.Ordinal) + "```bash\n".Length;
        var end = text.IndexOf("```", start, StringComparison.Ordinal);
        return text[start..end];
    }

    private static string FindUp(string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, file)) && File.Exists(Path.Combine(dir.FullName, "GrandPaymaster.sln")))
                return Path.Combine(dir.FullName, file);
        throw new FileNotFoundException($"{file} not found above {AppContext.BaseDirectory}");
    }
}
