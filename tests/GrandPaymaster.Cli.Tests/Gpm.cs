using System.Net;
using System.Text;
using System.Text.Json;

namespace GrandPaymaster.Cli.Tests;

/// <summary>What one run of gpm did: its exit code and what it wrote on standard output and standard error.</summary>
public sealed record GpmResult(int ExitCode, string Out, string Error)
{
    public JsonElement Json => JsonDocument.Parse(Out).RootElement.Clone();

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs gpm in this process (its real entry point, <see cref="GpmApp.RunAsync"/>) with captured output.</summary>
public static class Gpm
{
    /// <param name="terminal">Standard output is a terminal (else redirected, as in a pipe).</param>
    public static async Task<GpmResult> RunAsync(string[] args, IReadOnlyDictionary<string, string>? variables = null, bool terminal = false,
        HttpMessageHandler? handler = null, string? home = null, string? input = null, bool interactive = false)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new CliEnvironment
        {
            Out = output,
            Error = error,
            In = new StringReader(input ?? ""),
            OutputIsTerminal = terminal,
            Interactive = interactive,
            Width = 160,
            Variables = variables ?? new Dictionary<string, string>(),
            // No ~/.config/gpm/config.json of whoever runs the tests.
            HomeDirectory = home ?? Path.Combine(Path.GetTempPath(), "gpm-no-home"),
            Handler = handler,
        };
        var code = await GpmApp.RunAsync(args, env);
        return new GpmResult(code, output.ToString(), error.ToString());
    }
}

/// <summary>An admin API in the test: records each request and answers with what the test says (no network).</summary>
public sealed class StubNode(Func<HttpRequestMessage, string?, (HttpStatusCode Status, string ContentType, string Body)> answer) : HttpMessageHandler
{
    public List<(HttpMethod Method, string PathAndQuery, string? Body, string? Authorization, Uri Uri)> Requests { get; } = [];

    public static StubNode Json(HttpStatusCode status, string body) => new((_, _) => (status, "application/json", body));

    public static StubNode Problem(HttpStatusCode status, string code, string detail) =>
        new((_, _) => (status, "application/problem+json", JsonSerializer.Serialize(new { type = "about:blank", title = code, status = (int)status, detail, code })));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(ct);
        Requests.Add((request.Method, request.RequestUri!.PathAndQuery, body, request.Headers.Authorization?.ToString(), request.RequestUri));
        var (status, contentType, text) = answer(request, body);
        return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, contentType), RequestMessage = request };
    }
}
