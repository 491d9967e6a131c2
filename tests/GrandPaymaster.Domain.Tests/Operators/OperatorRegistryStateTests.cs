using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Domain.Tests.Operators;

public sealed class OperatorRegistryStateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static Meta By(string actor, DateTimeOffset? at = null) => new(at ?? Now, actor, "test", "c-1");

    private static CreateOperator Create(string id, OperatorRole[] roles, bool bootstrap = false, string actor = "operator:root") =>
        new(id, [.. roles], OperatorScope.Everything, "hash-" + id, Now.AddDays(90), By(actor), bootstrap);

    private static OperatorRegistryState With(OperatorRegistryState state, (OperatorAnswer Reply, GrandPaymaster.Domain.Common.IPaymasterMessage? Event) decision)
    {
        Assert.Null(decision.Reply.Refused);
        return decision.Event is null ? state : state.Apply(decision.Event);
    }

    private static OperatorRegistryState WithRoot() =>
        With(OperatorRegistryState.Empty, OperatorRegistryState.Empty.Decide(Create("root", [OperatorRole.Admin], bootstrap: true, actor: "operator:bootstrap")));

    [Fact]
    public void The_bootstrap_creates_the_first_admin_and_then_nothing_more()
    {
        var state = WithRoot();

        Assert.True(state.AdminEverCreated);
        Assert.Equal(OperatorRegistryState.BootstrapClosed, state.Decide(Create("second", [OperatorRole.Admin], bootstrap: true)).Reply.Refused?.Code);
        Assert.Equal("hash-root", state.ById["root"].TokenHash);
        Assert.Equal("root", state.ByToken("hash-root")?.Id);
    }

    [Fact]
    public void The_bootstrap_creates_only_an_unscoped_admin()
    {
        var viewer = OperatorRegistryState.Empty.Decide(Create("v", [OperatorRole.Viewer], bootstrap: true));
        var scoped = OperatorRegistryState.Empty.Decide(Create("s", [OperatorRole.Admin], bootstrap: true) with { Scope = new OperatorScope([1], null) });

        Assert.Equal("invalid_request", viewer.Reply.Refused?.Code);
        Assert.Equal("invalid_request", scoped.Reply.Refused?.Code);
        Assert.Null(viewer.Event);
    }

    [Theory]
    [InlineData(OperatorRole.Admin)]
    [InlineData(OperatorRole.Approver)]
    public void An_admin_cannot_grant_a_privileged_role_without_the_timelock(OperatorRole role)
    {
        var (reply, e) = WithRoot().Decide(Create("mallory", [OperatorRole.Viewer, role]));

        Assert.Equal(OperatorRegistryState.TimelockRequired, reply.Refused?.Code);
        Assert.Null(e);
    }

    [Fact]
    public void A_granted_role_is_added_to_the_operator_and_a_repeat_writes_nothing()
    {
        var state = With(WithRoot(), WithRoot().Decide(Create("alice", [OperatorRole.Viewer])));
        state = With(state, state.Decide(new GrantRoles("alice", [OperatorRole.Approver], By("operator:root"))));

        Assert.Equal(new[] { OperatorRole.Viewer, OperatorRole.Approver }, state.ById["alice"].Roles.ToArray());
        Assert.Null(state.Decide(new GrantRoles("alice", [OperatorRole.Approver], By("operator:root"))).Event);
    }

    [Fact]
    public void Ids_are_never_reused_even_after_revocation()
    {
        var state = With(WithRoot(), WithRoot().Decide(Create("alice", [OperatorRole.Operator])));
        state = With(state, state.Decide(new RevokeOperator("alice", By("operator:root"))));

        Assert.Equal("revoked", state.ById["alice"].StatusAt(Now));
        Assert.Equal(OperatorRegistryState.OperatorExists, state.Decide(Create("alice", [OperatorRole.Viewer])).Reply.Refused?.Code);
    }

    [Fact]
    public void The_last_active_admin_cannot_be_revoked()
    {
        var state = WithRoot();

        Assert.Equal(OperatorRegistryState.LastAdmin, state.Decide(new RevokeOperator("root", By("operator:root"))).Reply.Refused?.Code);
    }

    [Fact]
    public void An_expired_operator_is_expired_and_not_active()
    {
        var state = WithRoot();
        var root = state.ById["root"];

        Assert.True(root.IsActiveAt(Now));
        Assert.False(root.IsActiveAt(root.ExpiresAt));
        Assert.Equal("expired", root.StatusAt(root.ExpiresAt.AddSeconds(1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alice")]
    [InlineData("-alice")]
    [InlineData("al ice")]
    [InlineData("a\nb")]
    public void Bad_ids_are_refused(string id)
    {
        Assert.Equal("invalid_request", WithRoot().Decide(Create(id, [OperatorRole.Viewer])).Reply.Refused?.Code);
    }

    [Fact]
    public void Refusals_and_actions_are_recorded_without_changing_any_operator()
    {
        var state = WithRoot();

        Assert.Same(state, state.Apply(new AccessRefused("root", "GET", "/admin/v1/operators", "forbidden", "x", By("operator:root"))));
        Assert.Same(state, state.Apply(new OperatorActed("cluster.leave", "akka.tcp://a@b:1", By("operator:root"))));
    }

    [Theory]
    [InlineData(OperatorRole.Admin, OperatorRole.Operator, true)]
    [InlineData(OperatorRole.Admin, OperatorRole.Viewer, true)]
    [InlineData(OperatorRole.Admin, OperatorRole.Approver, false)]
    [InlineData(OperatorRole.Approver, OperatorRole.Viewer, true)]
    [InlineData(OperatorRole.Approver, OperatorRole.Operator, false)]
    [InlineData(OperatorRole.Operator, OperatorRole.Viewer, true)]
    [InlineData(OperatorRole.Operator, OperatorRole.Admin, false)]
    [InlineData(OperatorRole.Viewer, OperatorRole.Operator, false)]
    public void Roles_imply_what_the_readme_says(OperatorRole held, OperatorRole required, bool granted)
    {
        Assert.Equal(granted, held.Grants(required));
    }

    [Fact]
    public void A_scope_that_names_one_kind_covers_none_of_the_other()
    {
        var dappDesk = new OperatorScope(null, ["d-acme"]);
        var chainDesk = new OperatorScope([31337], null);

        Assert.True(OperatorScope.Everything.CoversChain(1) && OperatorScope.Everything.CoversDapp("d-x"));
        Assert.True(dappDesk.CoversDapp("d-acme"));
        Assert.False(dappDesk.CoversDapp("d-other"));
        Assert.False(dappDesk.CoversChain(31337));
        Assert.True(chainDesk.CoversChain(31337));
        Assert.False(chainDesk.CoversDapp("d-acme"));
    }

    [Fact]
    public void A_rotated_token_replaces_the_old_one_and_only_an_active_operator_gets_one()
    {
        var state = With(WithRoot(), WithRoot().Decide(Create("alice", [OperatorRole.Viewer])));
        state = With(state, state.Decide(new RotateToken("alice", "hash-new", Now.AddDays(30), By("operator:root"))));

        Assert.Null(state.ByToken("hash-alice"));
        Assert.Equal("alice", state.ByToken("hash-new")?.Id);
        Assert.Equal(Now.AddDays(30), state.ById["alice"].ExpiresAt);
        var revoked = With(state, state.Decide(new RevokeOperator("alice", By("operator:root"))));
        Assert.Equal(OperatorRegistryState.OperatorNotFound, revoked.Decide(new RotateToken("alice", "hash-3", Now.AddDays(1), By("operator:root"))).Reply.Refused?.Code);
    }
}
