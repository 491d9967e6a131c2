using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GrandPaymaster.Node.Health;

/// <summary>Writes the readiness report as JSON so an operator sees which check failed and why.</summary>
public static class HealthResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                error = e.Value.Exception?.Message,
            }),
        }));
    }
}
