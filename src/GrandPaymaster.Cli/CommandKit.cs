using System.CommandLine;
using System.Text.Json;

namespace GrandPaymaster.Cli;

/// <summary>The options every command takes (recursive: they are accepted after any subcommand).</summary>
public sealed class GlobalOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The node's admin API, e.g. http://127.0.0.1:5080 (else ${GpmConfig.UrlVariable}, the config file, {GpmConfig.DefaultUrl})",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Operator bearer token (else ${GpmConfig.TokenVariable} or the config file; prefer those: a flag shows in the process list)",
        HelpName = "token",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = $"Config file {{\"url\": ..., \"token\": ...}} (else ${GpmConfig.ConfigVariable}, else ~/.config/gpm/config.json)",
        HelpName = "file",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the node's JSON answer (stable, for scripts) instead of tables",
        Recursive = true,
    };
}

/// <summary>
/// Builds gpm's commands: a group is a palette (<c>gpm pool</c>), a leaf runs against the node in a <see cref="Session"/>
/// and returns its exit code. Errors become <c>error: code: detail</c> on standard error and their exit code.
/// </summary>
public sealed class CommandKit(CliEnvironment env, GlobalOptions globals)
{
    /// <summary>The examples shown under each command's help.</summary>
    public Dictionary<Command, string[]> Examples { get; } = [];

    public CliEnvironment Environment => env;

    public static Command Group(string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        foreach (var child in children) group.Subcommands.Add(child);
        return group;
    }

    /// <param name="symbols">The command's own arguments and options.</param>
    public Command Leaf(string name, string description, string[] examples, Symbol[] symbols, Func<Session, CancellationToken, Task<int>> run)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument: command.Arguments.Add(argument); break;
                case Option option: command.Options.Add(option); break;
                default: throw new ArgumentException($"Cannot add {symbol.GetType().Name} to a command.", nameof(symbols));
            }
        }

        Examples[command] = examples;
        command.SetAction((parse, ct) => RunAsync(parse, run, ct));
        return command;
    }

    /// <summary><c>--reason</c>: required for a change (prompted for when a person is at the terminal).</summary>
    public static Option<string?> ReasonOption(bool optional = false) => new("--reason", "-r")
    {
        Description = optional
            ? "Why (optional; recorded with your operator id in the audit log)"
            : "Why (required; recorded with your operator id in the audit log). Asked for when left out on a terminal",
        HelpName = "text",
    };

    private async Task<int> RunAsync(ParseResult parse, Func<Session, CancellationToken, Task<int>> run, CancellationToken ct)
    {
        var output = new Output(env, parse.GetValue(globals.Json));
        try
        {
            var config = GpmConfig.Resolve(parse.GetValue(globals.Url), parse.GetValue(globals.Token), parse.GetValue(globals.Config), env);
            using var client = new AdminClient(config, env.Handler);
            return await run(new Session(parse, client, output, env), ct);
        }
        catch (GpmException e)
        {
            output.Error(e);
            return e.ExitCode;
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or JsonException)
        {
            // An answer whose shape this gpm does not know (a newer or older node): say so rather than print a stack trace.
            output.Error(new GpmException(ExitCodes.Unavailable, "bad_answer", $"gpm could not read the node's answer: {e.Message}")
            {
                Hint = "--json prints the answer as the node sent it.",
            });
            return ExitCodes.Unavailable;
        }
    }
}

/// <summary>One command's run: its parsed values, the node client and the output.</summary>
public sealed class Session(ParseResult parse, AdminClient client, Output output, CliEnvironment env)
{
    public AdminClient Node => client;
    public Output Output => output;

    public T Get<T>(Option<T> option) => parse.GetValue(option)!;
    public T Get<T>(Argument<T> argument) => parse.GetValue(argument)!;

    /// <summary>The reason for a change: the option, else (on a terminal) a prompt, else a usage error.</summary>
    public string Reason(Option<string?> option, string what)
    {
        var reason = parse.GetValue(option);
        if (string.IsNullOrWhiteSpace(reason) && env.Interactive && !output.Json)
        {
            env.Error.Write($"Reason for {what} (recorded in the audit log): ");
            reason = env.In.ReadLine();
        }

        if (string.IsNullOrWhiteSpace(reason))
            throw GpmException.Usage($"A reason is required for {what}: add --reason \"...\" (it is recorded with your operator id in the audit log).");
        return reason.Trim();
    }

    /// <summary>Prints the answer: its JSON with <c>--json</c>, else what <paramref name="render"/> makes of it. Exit code 0.</summary>
    public int Show(NodeAnswer answer, Action<JsonElement> render)
    {
        if (output.Json) output.WriteJson(answer.Json);
        else render(answer.Json);
        return ExitCodes.Ok;
    }
}
