using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using GrandPaymaster.Domain.Operators;
using Microsoft.Extensions.Options;

namespace GrandPaymaster.Node.Api;

/// <summary>An operator and the bearer token that identifies them (interim: replaced by the operator registry).</summary>
public sealed class OperatorOptions
{
    public string Id { get; set; } = "";
    public string Token { get; set; } = "";
}

/// <summary>Interim: configured operators, all admins, compared in constant time (the operator registry replaces this).</summary>
public sealed class ConfiguredOperators(IOptions<List<OperatorOptions>> operators, ILogger<ConfiguredOperators> log) : IOperatorRegistry
{
    public Task<OperatorAuthentication> AuthenticateAsync(string token, CancellationToken ct)
    {
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var match = operators.Value.FirstOrDefault(o => o.Token.Length > 0 && !string.IsNullOrEmpty(o.Id) &&
                                                        CryptographicOperations.FixedTimeEquals(presented, SHA256.HashData(Encoding.UTF8.GetBytes(o.Token))));
        return Task.FromResult(match is null
            ? new OperatorAuthentication(null)
            : new OperatorAuthentication(new OperatorIdentity(match.Id, [OperatorRole.Admin], OperatorScope.Everything)));
    }

    public Task RecordRefusalAsync(string operatorId, string method, string route, string code, string detail, string correlationId, CancellationToken ct)
    {
        log.LogWarning("Operator {Operator} refused on {Method} {Route}: {Code}", operatorId, method, route, code);
        return Task.CompletedTask;
    }

    public Task RecordActionAsync(string action, string subject, GrandPaymaster.Domain.Common.Meta meta, CancellationToken ct)
    {
        log.LogInformation("{Actor} {Action} {Subject}: {Reason}", meta.Actor, action, subject, meta.Reason);
        return Task.CompletedTask;
    }
}
