using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using GrandPaymaster.Cli.Palettes;

namespace GrandPaymaster.Cli;

/// <summary>
/// <c>gpm</c>, the operator CLI: palettes in the style of Petabridge's pbm (<c>gpm pool pause 31337</c>) over the node's admin
/// API. <see cref="RunAsync"/> is the whole program; Program.cs passes the process's console and environment.
/// </summary>
public static class GpmApp
{
    public const string Description = "Grand Paymaster operator CLI: see and steer a node through its admin API (/admin/v1).";

    public const string Configuration = """
        Node and token:
          Each is taken from the first of: the flag (--url, --token), the environment (GPM_URL, GPM_TOKEN),
          the config file (--config, else GPM_CONFIG, else ~/.config/gpm/config.json) holding
          {"url": "http://127.0.0.1:5080", "token": "..."}; the URL defaults to http://127.0.0.1:5080.

        Output:
          Tables and colours on a terminal; plain aligned text when output is redirected; no colours when NO_COLOR
          is set; --json prints the node's JSON. Errors go to standard error as "error: <code>: <detail>".
        """;

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct = default)
    {
        var root = Build(env, out _);
        var invocation = new InvocationConfiguration
        {
            Output = env.Out,
            Error = env.Error,
            // Ctrl-C cancels the command's token (alerts watch stops cleanly); in-process callers cancel their own.
            ProcessTerminationTimeout = env.HandlesSignals ? TimeSpan.FromSeconds(2) : null,
        };
        return await root.Parse(args).InvokeAsync(invocation, ct);
    }

    /// <summary>The command tree (tests walk it to check every command, option and argument is described).</summary>
    public static RootCommand Build(CliEnvironment env, out CommandKit kit)
    {
        var globals = new GlobalOptions();
        kit = new CommandKit(env, globals);
        var root = new RootCommand(Description) { HelpName = "gpm" };
        root.Options.Add(globals.Url);
        root.Options.Add(globals.Token);
        root.Options.Add(globals.Config);
        root.Options.Add(globals.Json);
        foreach (var palette in new[]
                 {
                     ClusterPalette.Build(kit), PoolPalette.Build(kit), DappPalette.Build(kit), MarketPalette.Build(kit),
                     TimelockPalette.Build(kit), AuditPalette.Build(kit), SloPalette.Build(kit), AlertsPalette.Build(kit),
                     OperatorPalette.Build(kit), TreasuryPalette.Build(kit), VaultPalette.Build(kit),
                 })
            root.Subcommands.Add(palette);

        kit.Examples[root] =
        [
            "gpm pool list",
            "gpm pool pause 31337 --reason \"RPC provider incident\"",
            "gpm dapp show d-0123456789abcdef --json | jq .balances",
            "GPM_URL=http://10.0.0.5:5080 GPM_TOKEN=... gpm audit verify",
        ];
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!, kit.Examples, root, env);
        return root;
    }

    /// <summary>The default help, then the command's examples; the root's help ends with configuration and exit codes.</summary>
    private sealed class HelpWithExamples(HelpAction help, IReadOnlyDictionary<Command, string[]> examples, RootCommand root, CliEnvironment env)
        : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            help.MaxWidth = env.OutputIsTerminal ? Math.Max(env.Width, 60) : 110;
            var result = help.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            var command = parseResult.CommandResult.Command;
            if (examples.TryGetValue(command, out var lines) && lines.Length > 0)
            {
                output.WriteLine("Examples:");
                foreach (var line in lines) output.WriteLine($"  {line}");
                output.WriteLine();
            }

            if (command == root)
            {
                output.WriteLine(Configuration);
                output.WriteLine();
                output.WriteLine(ExitCodes.Help);
            }
            else
            {
                output.WriteLine("Exit codes: 0 ok, 1 usage error, 2 refused by the node (4xx), 3 node unreachable or 5xx, 4 audit tampering.");
            }

            return result;
        }
    }
}
