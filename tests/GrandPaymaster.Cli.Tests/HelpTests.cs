using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace GrandPaymaster.Cli.Tests;

/// <summary>gpm's help reads well: every command, option and argument is described, every command has examples that parse.</summary>
public sealed class HelpTests
{
    private static readonly CliEnvironment Env = new() { Out = TextWriter.Null, Error = TextWriter.Null };

    /// <summary>The palettes of issue 10, point 7.</summary>
    public static TheoryData<string> Commands => new()
    {
        "cluster show", "cluster leave", "cluster down", "cluster sharding regions", "cluster sharding stats",
        "pool list", "pool show", "pool pause", "pool resume",
        "dapp list", "dapp show", "dapp freeze", "dapp unfreeze", "dapp policy",
        "market show",
        "timelock list", "timelock schedule", "timelock cancel", "timelock execute",
        "audit tail", "audit verify",
        "slo",
        "alerts list", "alerts ack", "alerts watch",
        "operator create", "operator revoke", "operator list",
        "treasury show",
        "vault show", "vault proposals", "vault propose", "vault approve", "vault cancel",
    };

    private static IEnumerable<Command> All(Command command) => command.Subcommands.SelectMany(All).Prepend(command);

    [Fact]
    public void Every_command_option_and_argument_has_a_description()
    {
        var root = GpmApp.Build(Env, out _);

        var missing = All(root).SelectMany(c => c.Options.Cast<Symbol>().Concat(c.Arguments).Prepend(c)
                .Where(s => s is not HelpOption and not VersionOption && string.IsNullOrWhiteSpace(s.Description))
                .Select(s => $"{c.Name}: {s.Name}"))
            .ToArray();

        Assert.Empty(missing);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Each_palette_command_exists_and_its_help_shows_description_examples_and_exit_codes(string command)
    {
        var result = await Gpm.RunAsync([.. command.Split(' '), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Description:", result.Out);
        Assert.Contains($"gpm {command}", result.Out);
        Assert.Contains("Examples:", result.Out);
        Assert.Contains("Exit codes: 0 ok, 1 usage error, 2 refused by the node (4xx), 3 node unreachable or 5xx, 4 audit tampering.", result.Out);
        Assert.Contains("--json", result.Out);
        Assert.DoesNotContain('\u001b', result.Out);
    }

    [Fact]
    public async Task The_root_help_lists_the_palettes_configuration_and_every_exit_code()
    {
        var result = await Gpm.RunAsync(["--help"]);

        Assert.Equal(0, result.ExitCode);
        foreach (var palette in new[] { "cluster", "pool", "dapp", "market", "timelock", "audit", "slo", "alerts", "operator", "treasury", "vault" })
            Assert.Matches($@"(?m)^\s+{palette}\s+\S", result.Out);
        foreach (var text in new[] { "GPM_URL", "GPM_TOKEN", "GPM_CONFIG", "~/.config/gpm/config.json", "http://127.0.0.1:5080", "NO_COLOR" })
            Assert.Contains(text, result.Out);
        Assert.Contains(ExitCodes.Help.ReplaceLineEndings("\n"), result.Out.ReplaceLineEndings("\n"));
        foreach (var code in new[] { "0  ok", "1  usage error", "2  refused by the node", "3  node unreachable", "4  audit verify found tampering" })
            Assert.Contains(code, result.Out);
    }

    [Fact]
    public void Every_example_is_a_command_line_gpm_accepts()
    {
        var root = GpmApp.Build(Env, out var kit);

        foreach (var (command, examples) in kit.Examples)
        {
            Assert.NotEmpty(examples);
            foreach (var example in examples)
            {
                var args = Words(example);
                var parse = root.Parse(args);
                Assert.True(parse.Errors.Count == 0, $"'{example}': {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                if (command != root) Assert.Same(command, parse.CommandResult.Command);
            }
        }
    }

    /// <summary>The example's gpm arguments: after any VAR=value prefix and "gpm", up to a pipe or ||; double quotes group words.</summary>
    private static string[] Words(string example)
    {
        var words = Regex.Matches(example, "\"([^\"]*)\"|(\\S+)").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToList();
        var start = words.IndexOf("gpm");
        Assert.True(start >= 0 && words.Take(start).All(w => w.Contains('=')), $"'{example}' does not start with gpm");
        var end = words.FindIndex(start, w => w is "|" or "||");
        return words.Skip(start + 1).Take((end < 0 ? words.Count : end) - start - 1).ToArray();
    }
}
