using System.Collections;

namespace GrandPaymaster.Cli;

/// <summary>
/// What gpm reads from the world it runs in: its output streams and whether they are a terminal, standard input (for a
/// prompted reason), the environment variables and the home directory. The process passes the real ones
/// (<see cref="FromProcess"/>); tests pass writers, a dictionary and, for unit tests, an HTTP handler of their own.
/// </summary>
public sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Standard output is a terminal (tables and colours); false when it is redirected to a file or a pipe (plain text).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>A person can answer a prompt: standard input and standard output are both a terminal.</summary>
    public bool Interactive { get; init; }

    /// <summary>The terminal's width in columns (when <see cref="OutputIsTerminal"/>).</summary>
    public int Width { get; init; } = 120;

    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();
    public string HomeDirectory { get; init; } = "";

    /// <summary>Sends the requests (null: a socket handler); unit tests answer in process.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>Ctrl-C cancels the running command (the process only; tests cancel with their own token).</summary>
    public bool HandlesSignals { get; init; }

    public string? Variable(string name) => Variables.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    public static CliEnvironment FromProcess()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            variables[(string)entry.Key] = entry.Value as string ?? "";
        var terminal = !Console.IsOutputRedirected;
        int width;
        try
        {
            width = terminal && Console.WindowWidth > 0 ? Console.WindowWidth : 120;
        }
        catch (IOException)
        {
            width = 120;
        }

        return new CliEnvironment
        {
            Out = Console.Out,
            Error = Console.Error,
            In = Console.In,
            OutputIsTerminal = terminal,
            Interactive = terminal && !Console.IsInputRedirected,
            Width = width,
            Variables = variables,
            HomeDirectory = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
            HandlesSignals = true,
        };
    }
}
