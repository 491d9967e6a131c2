using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// RFC 7807 <c>application/problem+json</c> answers with a stable <c>code</c> (DESIGN.md §7), so a dApp
/// can branch on the code and a person can read the detail.
/// </summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    public static IResult Of(int status, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        Results.Json(new ProblemBody($"https://grand-paymaster.dev/problems/{code}", Title(code), status, detail, code, errors),
            contentType: ContentType, statusCode: status);

    public static IResult From(Rejection rejection) => Of(StatusOf(rejection.Code), rejection.Code, rejection.Message);

    public static IResult Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        Of(StatusCodes.Status400BadRequest, "invalid_request", "The request is not valid; see errors.", errors);

    public static int StatusOf(string code) => code switch
    {
        RejectionCodes.Unauthorized => StatusCodes.Status401Unauthorized,
        RejectionCodes.DappNotFound or RejectionCodes.QuoteNotFound => StatusCodes.Status404NotFound,
        RejectionCodes.QuoteExpired => StatusCodes.Status410Gone,
        RejectionCodes.QuoteAlreadyExecuted or RejectionCodes.AlreadyRegistered => StatusCodes.Status409Conflict,
        RejectionCodes.InsufficientBalance => StatusCodes.Status402PaymentRequired,
        RejectionCodes.IdempotencyConflict => StatusCodes.Status422UnprocessableEntity,
        RejectionCodes.RelayFailed => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status400BadRequest,
    };

    private static string Title(string code) => code.Replace('_', ' ') switch
    {
        var text when text.Length > 0 => char.ToUpperInvariant(text[0]) + text[1..],
        _ => "Error",
    };

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, string Code, IReadOnlyDictionary<string, string[]>? Errors);
}
