using Akka.Actor;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Dapps;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The one place the edge asks an actor (DESIGN.md §8.5): with the request's cancellation and a
/// timeout, mapping refusals and silence to problem answers.
/// </summary>
public static class EdgeAsk
{
    public static async Task<(T? Reply, IResult? Problem)> AskAsync<T>(IActorRef region, IPaymasterMessage message, TimeSpan timeout, CancellationToken ct)
        where T : class
    {
        try
        {
            var reply = await region.Ask<object>(message, timeout, ct);
            return reply switch
            {
                T typed => (typed, null),
                DappReplies.Rejected rejected => (null, Problems.From(rejected.Rejection)),
                _ => (null, Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", $"Unexpected answer {reply.GetType().Name}.")),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"No answer within {timeout.TotalSeconds:0} s; the request may still complete."));
        }
    }
}
