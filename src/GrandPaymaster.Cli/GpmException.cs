namespace GrandPaymaster.Cli;

/// <summary>
/// Why a command stopped: the exit code, a stable code (the node's problem <c>code</c>, or one of gpm's own) and the
/// detail, printed on standard error as <c>error: code: detail</c> with any per-field errors below.
/// </summary>
public sealed class GpmException(int exitCode, string code, string detail, int? status = null,
    IReadOnlyDictionary<string, string[]>? errors = null) : Exception(detail)
{
    public int ExitCode => exitCode;
    public string Code => code;
    public string Detail => Message;

    /// <summary>The node's HTTP status, when the node answered.</summary>
    public int? Status => status;

    public IReadOnlyDictionary<string, string[]> Errors => errors ?? new Dictionary<string, string[]>();

    /// <summary>The node has no such route (an older node): a command may fall back to another route.</summary>
    public bool RouteMissing { get; init; }

    /// <summary>A hint for the operator (what to do next), printed after the detail.</summary>
    public string? Hint { get; init; }

    public static GpmException Usage(string detail) => new(ExitCodes.Usage, "usage", detail);

    public static GpmException Unreachable(string detail) => new(ExitCodes.Unavailable, "unreachable", detail);
}
