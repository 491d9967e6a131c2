using FsCheck;
using FsCheck.Xunit;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Money;
using GrandPaymaster.Domain.Treasury;
using static GrandPaymaster.Domain.Treasury.VaultEvents;
using static GrandPaymaster.Domain.Treasury.VaultProtocol;

namespace GrandPaymaster.Domain.Tests.Treasury;

/// <summary>
/// Over random sequences of proposals, approvals, cancellations, time passing and expiry ticks, by random operators (some holding
/// the approver role, some not, some proposers that are also approvers), with a random M: a proposal is never executed with fewer
/// than M distinct approvers, never counting its proposer or an operator without the role, never after it expired or was cancelled,
/// and at most once — checked against the test's own record of the commands, not the state's counters.
/// </summary>
public sealed class VaultMultisigProperties
{
    private static readonly ChainId Chain = new(31337);
    private static readonly Address To = Address.Parse("0x" + new string('d', 40));
    private static readonly string[] Operators = ["operator:a0", "operator:a1", "operator:a2", "operator:p1", "operator:p0", "operator:v0", "operator:p2"];
    private static readonly HashSet<string> Approvers = ["operator:a0", "operator:a1", "operator:a2", "operator:p1"];
    private static readonly string[] Proposers = ["operator:p0", "operator:p1", "operator:p2"];

    private sealed class Model(string proposer, DateTimeOffset expiresAt)
    {
        public string Proposer { get; } = proposer;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;
        public HashSet<string> Counted { get; } = [];
        public bool Closed { get; set; }
        public bool Executed { get; set; }
    }

    [Property(MaxTest = 300)]
    public bool No_proposal_executes_without_M_distinct_approvers_other_than_its_proposer_before_expiry_and_uncancelled(int seed, PositiveInt length)
    {
        var random = new Random(seed);
        var required = random.Next(1, 4);
        var policy = new VaultPolicy { ApprovalsRequired = required, ProposalTtl = TimeSpan.FromMinutes(random.Next(5, 60)), MaxOpenProposals = 5 };
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
        var state = VaultState.Empty;
        var models = new Dictionary<string, Model>();

        for (var step = 0; step < Math.Min(length.Get * 4, 200); step++)
        {
            var who = Operators[random.Next(Operators.Length)];
            var id = $"vp-{random.Next(1, (int)state.ProposalsIssued + 2)}";
            IEnumerable<IVaultEvent> events;
            switch (random.Next(10))
            {
                case 0 or 1:
                    var proposer = Proposers[random.Next(Proposers.Length)];
                    var (_, created) = state.Decide(new ProposeTransfer(Chain, To, new Wei(random.Next(1, 1_000)), new Meta(now, proposer, "move", "c")), now, policy, true);
                    events = created is null ? [] : [created];
                    break;
                case 2:
                    var (_, cancelled) = state.Decide(new CancelProposal(id, new Meta(now, who, "no", "c")), now);
                    events = cancelled is null ? [] : [cancelled];
                    break;
                case 3:
                    now = now.AddMinutes(random.Next(0, 30));
                    events = [];
                    break;
                case 4:
                    events = state.ExpiredAt(now).Select(p => (IVaultEvent)new ProposalExpired(p.Id, Meta.System("vault", "expired", now))).ToArray();
                    break;
                default:
                    // Mostly real approvers, sometimes anyone; the edge's role flag says what the operator holds.
                    var approver = random.Next(3) == 0 ? who : Approvers.ElementAt(random.Next(Approvers.Count));
                    events = state.Decide(new ApproveProposal(id, Approvers.Contains(approver), new Meta(now, approver, "ok", "c")), now).Events;
                    break;
            }

            foreach (var e in events)
            {
                Check(e, models, now, required);
                state = state.Apply(e);
            }

            // Liveness: a proposal that got its M-th counted approval was executed in that same write.
            foreach (var (pid, model) in models)
                Assert.False(model.Counted.Count >= required && !model.Executed, $"{pid} has {model.Counted.Count} of {required} approvals but was not executed");
        }

        return true;
    }

    private static void Check(IVaultEvent e, Dictionary<string, Model> models, DateTimeOffset now, int required)
    {
        switch (e)
        {
            case ProposalCreated created:
                models[created.Proposal.Id] = new Model(created.Proposal.ProposedBy, created.Proposal.ExpiresAt);
                break;
            case ProposalApproved approved:
                var m = models[approved.ProposalId];
                Assert.False(m.Closed, $"{approved.ProposalId} approved after it was closed");
                Assert.True(now <= m.ExpiresAt, $"{approved.ProposalId} approved after its expiry");
                Assert.True(Approvers.Contains(approved.Approver), $"{approved.Approver} is not an approver");
                Assert.NotEqual(m.Proposer, approved.Approver);
                Assert.True(m.Counted.Add(approved.Approver), $"{approved.Approver} counted twice");
                break;
            case ProposalExecuted executed:
                var x = models[executed.ProposalId];
                Assert.False(x.Closed, $"{executed.ProposalId} executed after it was closed (expired, cancelled or executed)");
                Assert.True(now <= x.ExpiresAt, $"{executed.ProposalId} executed after its expiry");
                Assert.True(x.Counted.Count >= required, $"{executed.ProposalId} executed with {x.Counted.Count} of {required} approvals");
                Assert.DoesNotContain(x.Proposer, x.Counted);
                x.Closed = x.Executed = true;
                break;
            case TopUpAccepted accepted:
                Assert.True(accepted.ProposalId is { } p && models[p].Executed, "a transfer accepted without an executed proposal");
                break;
            case ProposalCancelled or ProposalExpired:
                var id = e is ProposalCancelled c ? c.ProposalId : ((ProposalExpired)e).ProposalId;
                Assert.False(models[id].Closed, $"{id} closed twice");
                if (e is ProposalExpired) Assert.True(now > models[id].ExpiresAt);
                models[id].Closed = true;
                break;
        }
    }
}
