using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// RFC 7807 <c>application/problem+json</c> answers with a stable <c>code</c> (DESIGN.md §7), so a dApp
/// can branch on the code and a person can read the detail.
/// </summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>A problem answer; <paramref name="retryAfterSeconds"/> adds <c>Retry-After</c> ("come back later").</summary>
    public static ProblemResult Of(int status, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null, int? retryAfterSeconds = null) =>
        new(status, code, retryAfterSeconds,
            Results.Json(new ProblemBody($"https://grand-paymaster.dev/problems/{code}", Title(code), status, detail, code, errors), contentType: ContentType,
                statusCode: status));

    /// <summary>A refusal as a problem; "come back later" refusals carry <c>Retry-After</c>.</summary>
    public static ProblemResult From(Rejection rejection) =>
        Of(StatusOf(rejection.Code), rejection.Code, rejection.Message,
            retryAfterSeconds: rejection.RetryAfterSeconds ?? (rejection.Code == RejectionCodes.PoolUnavailable ? 2 : null));

    public static IResult Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        Of(StatusCodes.Status400BadRequest, "invalid_request", "The request is not valid; see errors.", errors);

    public static int StatusOf(string code) => code switch
    {
        RejectionCodes.Unauthorized => StatusCodes.Status401Unauthorized,
        RejectionCodes.DappNotFound or RejectionCodes.QuoteNotFound or "not_found" => StatusCodes.Status404NotFound,
        RejectionCodes.QuoteExpired => StatusCodes.Status410Gone,
        RejectionCodes.QuoteAlreadyExecuted or RejectionCodes.AlreadyRegistered or Domain.Compliance.DenylistState.DenylistFull => StatusCodes.Status409Conflict,
        RejectionCodes.InsufficientBalance => StatusCodes.Status402PaymentRequired,
        RejectionCodes.IdempotencyConflict => StatusCodes.Status422UnprocessableEntity,
        RejectionCodes.RelayFailed => StatusCodes.Status502BadGateway,
        RejectionCodes.NonceStale or RejectionCodes.DepositReferenceConflict => StatusCodes.Status409Conflict,
        RejectionCodes.RequestExpired => StatusCodes.Status410Gone,
        RejectionCodes.UntrustedTarget or RejectionCodes.SimulationReverted or RejectionCodes.GasLimitExceeded => StatusCodes.Status422UnprocessableEntity,
        RejectionCodes.DirectCallNotAllowed => StatusCodes.Status403Forbidden,
        RejectionCodes.PoolUnavailable or RejectionCodes.PoolPaused or RejectionCodes.PoolDisabled or RejectionCodes.Overloaded => StatusCodes.Status503ServiceUnavailable,
        RejectionCodes.DappFrozen or RejectionCodes.Denylisted or RejectionCodes.ChainNotAllowed or RejectionCodes.TargetNotAllowed or RejectionCodes.Forbidden =>
            StatusCodes.Status403Forbidden,
        RejectionCodes.DailyCapExceeded or RejectionCodes.UserCapExceeded or RejectionCodes.TooManyOpenQuotes or RejectionCodes.Throttled =>
            StatusCodes.Status429TooManyRequests,
        RejectionCodes.MaxFeeExceeded => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status400BadRequest,
    };

    private static string Title(string code) => code.Replace('_', ' ') switch
    {
        var text when text.Length > 0 => char.ToUpperInvariant(text[0]) + text[1..],
        _ => "Error",
    };

    /// <summary>A problem answer whose code and status the edge can still read (to report a refusal, say).</summary>
    public sealed class ProblemResult(int status, string code, int? retryAfterSeconds, IResult body) : IResult
    {
        public int Status => status;
        public string Code => code;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (retryAfterSeconds is { } seconds)
                httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return body.ExecuteAsync(httpContext);
        }
    }

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, string Code, IReadOnlyDictionary<string, string[]>? Errors);
}
