using System.Numerics;
using Akka.Actor;
using Address = GrandPaymaster.Domain.Common.Address;
using Akka.Hosting;
using GrandPaymaster.Actors.Compliance;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Compliance;
using GrandPaymaster.Domain.Dapps;
using Microsoft.Extensions.Logging;

namespace GrandPaymaster.Node.Policy;

/// <summary>
/// The edge's side of the denylist (S9): checks this node's replica before any RPC call or actor message, and runs the
/// pattern rules (<see cref="WalletWatch"/>); a rule that fires adds the wallet to the list itself, for the dApp whose quotes
/// fired it — with the rule as the reason, <c>system:denylist-rules</c> as the author and an expiry — and the quote is refused.
/// </summary>
public sealed class DenylistRules(IDenylist list, WalletWatch watch, DenylistRuleSettings settings, TimeProvider clock, ActorRegistry actors, ILogger<DenylistRules> log)
{
    public Rejection? Check(DappId dapp, Address wallet, Address target) => list.Check(dapp, wallet, target, clock.GetUtcNow());

    /// <summary>Counts the quote for its wallet; when a rule fires, the wallet is listed and the refusal returned.</summary>
    public Rejection? Screen(DappId dapp, Address wallet, BigInteger mostNativeGas)
    {
        if (watch.Quoted(dapp, wallet, mostNativeGas) is not var (reason, fired)) return null;
        var now = clock.GetUtcNow();
        var refusal = new Rejection(RejectionCodes.Denylisted, $"Wallet {wallet} is on the denylist for this dApp ({reason}).");
        if (!fired) return refusal;
        log.LogWarning("Denylist rule fired for wallet {Wallet}: {Reason}", wallet, reason);
        if (actors.TryGet<DenylistSingleton>(out var singleton))
            singleton.Tell(new DenylistProtocol.AddEntry(DenylistKind.Wallet, wallet.Value, now + settings.ExpireAfter, Meta.System("denylist-rules", reason, now),
                dapp.Value));
        return refusal;
    }
}
