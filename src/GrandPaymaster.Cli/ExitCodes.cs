using System.Net;

namespace GrandPaymaster.Cli;

/// <summary>gpm's exit codes (also in <c>gpm --help</c> and the README): scripts branch on them.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line is wrong (unknown command, missing argument, bad option value, missing reason, unreadable config).</summary>
    public const int Usage = 1;

    /// <summary>The node refused the request (HTTP 4xx: bad input, no or wrong token, missing role, unknown id, timelock required).</summary>
    public const int Refused = 2;

    /// <summary>The node could not be reached, timed out, or failed (HTTP 5xx).</summary>
    public const int Unavailable = 3;

    /// <summary><c>gpm audit verify</c> found an event whose hash chain or checkpoint does not match.</summary>
    public const int Tampered = 4;

    public static int ForStatus(HttpStatusCode status) => (int)status switch
    {
        < 400 => Ok,
        < 500 => Refused,
        _ => Unavailable,
    };

    public const string Help = """
        Exit codes:
          0  ok
          1  usage error (unknown command, bad argument, missing --reason, unreadable config file)
          2  refused by the node (HTTP 4xx: invalid request, missing or wrong token, role or scope, unknown id)
          3  node unreachable, timed out, or failed (HTTP 5xx)
          4  audit verify found tampering (the first bad event is printed)
        """;
}
