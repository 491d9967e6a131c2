using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GrandPaymaster.Cli;

/// <summary>
/// Everything gpm prints. <c>--json</c>: the node's JSON (indented), nothing else on standard output. On a terminal: tables
/// with borders and colours (none under <c>NO_COLOR</c>). Redirected: plain aligned text, no borders, no escape codes.
/// Errors go to standard error as <c>error: code: detail</c>.
/// </summary>
public sealed class Output
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly IAnsiConsole _console;
    private readonly TextWriter _error;

    public Output(CliEnvironment env, bool json)
    {
        Json = json;
        Rich = env.OutputIsTerminal && !json;
        _error = env.Error;
        var noColor = env.Variable("NO_COLOR") is not null;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = Rich ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = Rich && !noColor ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            // Plain text is for scripts and files: wide enough that no cell is wrapped.
            Out = new WriterOutput(env.Out, env.OutputIsTerminal, Rich ? Math.Max(env.Width, 40) : 4096),
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
            EnvironmentVariables = new Dictionary<string, string>(env.Variables),
        });
    }

    /// <summary><c>--json</c>: print the node's JSON instead of a table.</summary>
    public bool Json { get; }

    /// <summary>Tables with borders and colours (a terminal, not <c>--json</c>).</summary>
    public bool Rich { get; }

    public void WriteJson(JsonElement json)
    {
        // An empty answer (204) has no JSON to print.
        if (json.ValueKind != JsonValueKind.Undefined) _console.Profile.Out.Writer.WriteLine(JsonSerializer.Serialize(json, Indented));
    }

    /// <summary>A JSON value on one line (<c>alerts watch --json</c> prints one event per line).</summary>
    public void WriteJsonLine(string json) => _console.Profile.Out.Writer.WriteLine(json);

    public void Table(string? title, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var table = new Table { Border = Rich ? TableBorder.Rounded : TableBorder.None, ShowHeaders = true };
        foreach (var column in columns) table.AddColumn(new TableColumn(new Text(column, Rich ? new Style(decoration: Decoration.Bold) : Style.Plain)));
        var count = 0;
        foreach (var row in rows)
        {
            table.AddRow(row.Select(Cell).ToArray());
            count++;
        }

        if (title is not null) Heading(title);
        if (count == 0)
        {
            Line("(none)");
            return;
        }

        _console.Write(table);
    }

    /// <summary>Name–value pairs, one per line (a single object: a pool, a dApp, a verification).</summary>
    public void Fields(string? title, IEnumerable<(string Name, string? Value)> fields)
    {
        if (title is not null) Heading(title);
        var grid = new Grid();
        grid.AddColumn(new GridColumn().NoWrap().PadRight(2));
        grid.AddColumn(new GridColumn());
        foreach (var (name, value) in fields)
            grid.AddRow(new Text(name, Rich ? new Style(Color.Grey) : Style.Plain), Cell(value));
        _console.Write(grid);
    }

    public void Heading(string text)
    {
        _console.Write(new Text(text, Rich ? new Style(decoration: Decoration.Bold | Decoration.Underline) : Style.Plain));
        _console.WriteLine();
    }

    public void Line(string text, string? tone = null)
    {
        _console.Write(new Text(text, Rich && tone is not null ? StyleOf(tone) : Style.Plain));
        _console.WriteLine();
    }

    /// <summary>A done change: "✓ Pool 31337 paused." on a terminal, the sentence alone when plain.</summary>
    public void Done(string text)
    {
        if (Rich) _console.Write(new Text("✓ ", new Style(Color.Green)));
        Line(text);
    }

    public void Error(GpmException error)
    {
        var text = new StringBuilder($"error: {error.Code}: {error.Detail}");
        if (error.Status is { } status) text.Append($" (HTTP {status})");
        foreach (var (field, messages) in error.Errors) text.Append($"\n  {field}: {string.Join("; ", messages)}");
        if (error.Hint is { } hint) text.Append($"\n  hint: {hint}");
        _error.WriteLine(text.ToString());
    }

    public void Warning(string text) => _error.WriteLine($"warning: {text}");

    private IRenderable Cell(string? value) =>
        value is null ? new Text(Rich ? "–" : "-", Rich ? new Style(Color.Grey) : Style.Plain) : new Text(value, Rich ? StyleOf(value) : Style.Plain);

    /// <summary>States read at a glance: green is well, yellow needs a look, red needs a person.</summary>
    private static Style StyleOf(string value) => value switch
    {
        "ok" or "normal" or "active" or "healthy" or "up" or "used" or "executed" or "resolved" or "fresh" or "true" => new Style(Color.Green),
        "paused" or "throttled" or "scheduled" or "warning" or "burning" or "degraded" or "acknowledged" or "joining" or "leaving" or "expired"
            or "open" or "stale" or "cancelled" or "weakly_up" or "out_of_bounds" => new Style(Color.Yellow),
        "disabled" or "frozen" or "critical" or "exhausted" or "safe_mode" or "revoked" or "down" or "unreachable" or "failed" or "false"
            or "tampered" => new Style(Color.Red),
        _ => Style.Plain,
    };

    /// <summary>Spectre's output on gpm's writer, with the width and terminal flag gpm decided (not guessed from the process).</summary>
    private sealed class WriterOutput(TextWriter writer, bool isTerminal, int width) : IAnsiConsoleOutput
    {
        public TextWriter Writer => writer;
        public bool IsTerminal => isTerminal;
        public int Width => width;
        public int Height => 24;

        public void SetEncoding(Encoding encoding)
        {
            // The writer keeps its own encoding (the process's console or a test's StringWriter).
        }
    }
}
