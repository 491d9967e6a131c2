using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace GrandPaymaster.Node.Tests;

/// <summary>A loopback PagerDuty Events API v2 endpoint that records what it is sent and answers 202.</summary>
public sealed class PagerReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<JsonElement> _bodies = new();

    private PagerReceiver(WebApplication app) => _app = app;

    public string Url => _app.Urls.First() + "/v2/enqueue";
    public IReadOnlyList<JsonElement> Bodies => _bodies.ToArray();
    public int Triggers => Bodies.Count(b => b.GetProperty("event_action").GetString() == "trigger");
    public int Resolves => Bodies.Count(b => b.GetProperty("event_action").GetString() == "resolve");

    public static async Task<PagerReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new PagerReceiver(app);
        app.MapPost("/v2/enqueue", async (HttpRequest request) =>
        {
            receiver._bodies.Enqueue((await JsonDocument.ParseAsync(request.Body)).RootElement.Clone());
            return Results.Json(new { status = "success", message = "Event processed" }, statusCode: StatusCodes.Status202Accepted);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
