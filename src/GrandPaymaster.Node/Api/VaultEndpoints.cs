using System.Globalization;
using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Domain.Treasury;
using GrandPaymaster.Node.Hosting;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// The vault (<c>/admin/v1/vault</c>): per chain the vault wallet, its balance, limits and registered pool wallets; multi-sig
/// proposals — proposed by an operator, approved by M distinct approvers other than the proposer, cancelled, expired. The vault
/// singleton journals every step (refused approvals included) with who and why.
/// </summary>
public static class VaultEndpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan BalanceTimeout = TimeSpan.FromSeconds(2);

    public static void MapVaultAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/vault", ShowAsync).RequireRole(OperatorRole.Viewer);
        admin.MapGet("/vault/proposals", ListAsync).RequireRole(OperatorRole.Viewer);
        admin.MapPost("/vault/proposals", ProposeAsync).RequireRole(OperatorRole.Operator);
        admin.MapPost("/vault/proposals/{proposalId}/approve", ApproveAsync).RequireRole(OperatorRole.Approver);
        admin.MapDelete("/vault/proposals/{proposalId}", CancelAsync).RequireRole(OperatorRole.Operator);
    }

    /// <summary>→ <c>{chains:[{chainId, name, vaultAddress, balance, dailyLimit, dailyUsed, day, autoLimit, poolWallets, openTopUps}]}</c> (wei as strings; a balance not read within 2 s is null).</summary>
    private static async Task<IResult> ShowAsync(HttpContext http, IRequiredActor<VaultSingleton> vault, ChainRpcDirectory chains)
    {
        var (view, refused) = await AskAsync<VaultView>(vault, new GetVault(), http.RequestAborted);
        if (refused is not null) return refused;
        var rows = await Task.WhenAll(view!.Chains.Select(async chain =>
        {
            var configured = chains.Find(chain.ChainId);
            return new
            {
                chainId = chain.ChainId.Value,
                name = configured?.Name,
                vaultAddress = chain.VaultAddress?.Value,
                balance = chain.VaultAddress is { } address && configured is not null ? await BalanceAsync(configured, address, http.RequestAborted) : null,
                dailyLimit = Text(chain.DailyLimit),
                dailyUsed = Text(chain.DailyUsed),
                day = chain.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                autoLimit = Text(chain.AutoLimit),
                poolWallets = chain.PoolWallets.Select(w => w.Value),
                openTopUps = chain.OpenTopUps,
            };
        }));
        return Results.Json(new { chains = rows });
    }

    /// <summary><c>?status=open|executed|cancelled|expired</c> → <c>{proposals:[…]}</c> in the order they were made.</summary>
    private static async Task<IResult> ListAsync(HttpContext http, IRequiredActor<VaultSingleton> vault)
    {
        var text = http.Request.Query["status"].ToString();
        ProposalStatus? status = null;
        if (text.Length > 0)
        {
            if (!Enum.TryParse<ProposalStatus>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || text.Any(char.IsDigit))
                return Problems.Invalid(new Dictionary<string, string[]> { ["status"] = ["must be one of open, executed, cancelled, expired"] });
            status = parsed;
        }

        var (list, refused) = await AskAsync<ProposalList>(vault, new GetProposals(status), http.RequestAborted);
        return refused ?? Results.Json(new { proposals = list!.Items.Select(Json) });
    }

    /// <summary><c>{chainId, to, amount, reason}</c> → 201 the open proposal (it needs the approvals of distinct approvers other than its proposer).</summary>
    private static async Task<IResult> ProposeAsync(HttpContext http, IRequiredActor<VaultSingleton> vault, ChainRpcDirectory chains, TimeProvider clock)
    {
        var (body, problem) = await JsonRequest.ReadAsync(http);
        if (problem is not null) return problem;
        body!.Allow("chainId", "to", "amount", "reason");
        var chainId = body.ChainId("chainId");
        var to = body.Address("to");
        var amount = body.Quantity("amount", required: true);
        var reason = body.String("reason", required: true, maxLength: 256);
        if (amount is { IsZero: true }) body.Error("amount", "must be positive");
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        if (chains.Find(chainId!.Value) is null) return Problems.Of(StatusCodes.Status400BadRequest, "unknown_chain", $"Chain {chainId} is not served by this paymaster.");

        var (proposal, refused) = await AskAsync<VaultProposal>(vault, new ProposeTransfer(chainId.Value, to!.Value, new Wei(amount!.Value), http.OperatorMeta(reason!, clock)),
            http.RequestAborted);
        return refused ?? Results.Json(Json(proposal!), statusCode: StatusCodes.Status201Created);
    }

    /// <summary><c>{reason?}</c> → the proposal (<c>executed</c> after the M-th approval); refusals are journaled by the vault.</summary>
    private static async Task<IResult> ApproveAsync(HttpContext http, string proposalId, IRequiredActor<VaultSingleton> vault, TimeProvider clock)
    {
        if (!ValidId(proposalId)) return NotFound(proposalId);
        var (body, problem) = await JsonRequest.ReadAsync(http, allowEmpty: true);
        if (problem is not null) return problem;
        body!.Allow("reason");
        var reason = body.String("reason", required: false, maxLength: 256) ?? "approved";
        if (!body.IsValid) return Problems.Invalid(body.Errors);
        var who = http.Operator();
        var (proposal, refused) = await AskAsync<VaultProposal>(vault,
            new ApproveProposal(proposalId, who.Roles.Contains(OperatorRole.Approver), http.OperatorMeta(reason, clock)), http.RequestAborted);
        return refused ?? Results.Json(Json(proposal!));
    }

    /// <summary><c>?reason=</c> → the cancelled proposal.</summary>
    private static async Task<IResult> CancelAsync(HttpContext http, string proposalId, IRequiredActor<VaultSingleton> vault, TimeProvider clock)
    {
        var errors = new Dictionary<string, string[]>();
        var reason = AdminEndpoints.QueryReason(http, errors);
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (!ValidId(proposalId)) return NotFound(proposalId);
        var (proposal, refused) = await AskAsync<VaultProposal>(vault, new CancelProposal(proposalId, http.OperatorMeta(reason, clock)), http.RequestAborted);
        return refused ?? Results.Json(Json(proposal!));
    }

    internal static async Task<(T? Reply, IResult? Problem)> AskAsync<T>(IRequiredActor<VaultSingleton> vault, IVaultCommand command, CancellationToken ct)
        where T : class
    {
        try
        {
            var reply = await (await vault.GetAsync(ct)).Ask<object>(command, Timeout, ct);
            return reply switch
            {
                T typed => (typed, null),
                VaultRefused refused => (null, Problems.Of(StatusOf(refused.Code), refused.Code, refused.Message)),
                _ => (null, Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", $"Unexpected answer {reply.GetType().Name}.")),
            };
        }
        catch (AskTimeoutException)
        {
            return (null, Problems.Of(StatusCodes.Status504GatewayTimeout, "timeout", $"The vault did not answer within {Timeout.TotalSeconds:0} s; the request may still complete."));
        }
    }

    private static int StatusOf(string code) => code switch
    {
        VaultCodes.NotFound => StatusCodes.Status404NotFound,
        VaultCodes.ProposerCannotApprove or VaultCodes.NotAnApprover => StatusCodes.Status403Forbidden,
        VaultCodes.ProposalExpired => StatusCodes.Status410Gone,
        VaultCodes.UnknownChain or VaultCodes.InvalidRequest => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status409Conflict,
    };

    private static async Task<string?> BalanceAsync(ConfiguredChain chain, GrandPaymaster.Domain.Common.Address address, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(BalanceTimeout);
        try
        {
            var balance = await chain.Endpoints.CallAsync((client, t) => client.GetBalanceAsync(address.Value, ct: t), bounded.Token);
            return balance.ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !ct.IsCancellationRequested)
        {
            return null; // the endpoints' own health tells why
        }
    }

    private static string Text(Wei wei) => wei.Value.ToString(CultureInfo.InvariantCulture);

    internal static object Json(VaultProposal p) => new
    {
        id = p.Id,
        chainId = p.ChainId.Value,
        to = p.To.Value,
        amount = Text(p.Amount),
        reason = p.Reason,
        proposedBy = p.ProposedBy,
        proposedAt = p.ProposedAt,
        expiresAt = p.ExpiresAt,
        approvalsRequired = p.ApprovalsRequired,
        approvals = p.Approvals.Select(a => new { @operator = a.Operator, at = a.At, reason = a.Reason }),
        status = p.Status.ToString().ToLowerInvariant(),
        requestId = p.Status == ProposalStatus.Executed ? p.RequestId : null,
        closedBy = p.ClosedBy,
        closedAt = p.ClosedAt,
        closeReason = p.CloseReason,
    };

    /// <summary>Proposal ids are <c>vp-&lt;n&gt;</c>: anything else is answered 404 without asking the singleton.</summary>
    private static bool ValidId(string id) => id.Length is > 3 and <= 24 && id.StartsWith("vp-", StringComparison.Ordinal) && id[3..].All(char.IsAsciiDigit);

    private static IResult NotFound(string id) =>
        Problems.Of(StatusCodes.Status404NotFound, VaultCodes.NotFound, $"The vault has no proposal {(ValidId(id) ? id : "with that id")}.");
}
