namespace GrandPaymaster.LoadTest.Engine;

/// <summary>
/// The outcome of one step invocation: whether it succeeded, and an optional status or error code
/// (for example an HTTP status) that failures are grouped by in the reports.
/// </summary>
/// <param name="IsSuccess">True when the request counts as OK.</param>
/// <param name="Code">Status or error code; failures without one are grouped under <see cref="UnspecifiedCode"/>.</param>
public sealed record StepResult(bool IsSuccess, string? Code = null)
{
    /// <summary>The code a failure is counted under when the step gave none.</summary>
    public const string UnspecifiedCode = "unspecified";

    private static readonly StepResult PlainOk = new(true);

    /// <summary>A successful result, optionally carrying a status code.</summary>
    public static StepResult Ok(string? code = null) => code is null ? PlainOk : new StepResult(true, code);

    /// <summary>A failed result counted under <paramref name="code"/>.</summary>
    public static StepResult Fail(string code) => new(false, code);
}
