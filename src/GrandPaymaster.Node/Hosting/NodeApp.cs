using Microsoft.Extensions.Options;
using GrandPaymaster.Chain.Rpc;
using GrandPaymaster.Actors.Market;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Dapps;
using GrandPaymaster.Actors.Compliance;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Node.Policy;
using Akka.Actor;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Node.Api;
using GrandPaymaster.Node.Market;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Node.Health;
using GrandPaymaster.Actors.Timelock;
using GrandPaymaster.Actors.Vault;
using GrandPaymaster.Node.Timelock;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;
using GrandPaymaster.Node.Alerts;

using GrandPaymaster.Node.Treasury;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// Builds the node: ASP.NET Core edge + Akka.NET cluster member with sharding and a SQL journal.
/// Tests build the same app with other settings (free ports, a temporary data directory).
/// </summary>
public static class NodeApp
{
    private const string ReadyTag = "ready";

    /// <param name="overrides">Replaces services after the node's own (tests inject a clock here).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        var gpm = builder.Configuration.GetSection(GpmOptions.Section).Get<GpmOptions>() ?? new GpmOptions();
        RefusePublicDevSeedOnRealChains(gpm);
        builder.Services.Configure<GpmOptions>(builder.Configuration.GetSection(GpmOptions.Section));
        builder.Services.Configure<MarketOptions>(builder.Configuration.GetSection("Gpm:Market"));
        var policy = PolicySettings.Load(builder.Configuration.GetSection("Gpm:Policy").Get<PolicyOptions>()?.Hocon ?? "");
        var admin = builder.Configuration.GetSection("Gpm:Admin").Get<AdminOptions>() ?? new AdminOptions();
        AdminExposure.RefuseUnsafeBootstrap(builder.Configuration, admin, gpm);
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection("Gpm:Admin"));
        // The admin API's own budget for unknown tokens (a client flooding the dApp API with bad keys does not spend it).
        builder.Services.AddSingleton<IOperatorRegistry>(sp =>
            ActivatorUtilities.CreateInstance<RegistryOperators>(sp, new IpBudget(policy.Unauthenticated, sp.GetRequiredService<TimeProvider>())));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient(Microsoft.Extensions.Options.Options.DefaultName, c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton(new ChainContracts(gpm.EffectiveChains));
        builder.Services.AddSingleton(sp => new ChainRpcDirectory(gpm.EffectiveChains,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(Microsoft.Extensions.Options.Options.DefaultName), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<PoolModeDirectory>();
        builder.Services.AddTimelockedChanges(builder.Configuration);
        builder.Services.AddSingleton<IWalletKeys>(new DevWalletKeys(gpm.Wallets.DevSeed, gpm.Wallets.WorkersPerChain));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = JsonRequest.MaxBodyBytes;
            // Bounded: a client's connections (and answers held back from clients that ignore Retry-After) cannot grow without end.
            kestrel.Limits.MaxConcurrentConnections = 10_000;
            AdminExposure.Listen(kestrel, builder.Configuration, admin);
        });

        // Hosted services start in registration order: chains first, then the actor system (with the gas oracle).
        if (gpm.Devnet.Enabled) builder.Services.AddHostedService<DevnetHostedService>();
        builder.Services.AddSingleton<GasMarketBoard>();
        builder.Services.AddSingleton<RateBoard>();
        builder.Services.AddSingleton(sp => new SafeModeQuoting(MarketHocon(sp).GetConfig("gpm.market.safe-mode")));
        builder.Services.AddSingleton(sp => new MarketFreshness(MarketHocon(sp).GetTimeSpan("gpm.market.gas.fresh-for"),
            MarketHocon(sp).GetTimeSpan("gpm.market.rates.fresh-for")));
        builder.Services.AddSingleton<IMarketView, OracleMarketView>();
        var metrics = new Observability.PaymasterMetrics();
        builder.Services.AddSingleton(metrics);
        AddPolicy(builder.Services, policy);
        builder.AddAlertsAndSlos();
        builder.AddTreasury();
        builder.Services.AddAkka(gpm.Node.ActorSystemName, (akka, sp) =>
        {
            ConfigureAkka(akka, gpm, policy, sp);
            metrics.AddTransactionMetrics(akka);
            metrics.AddJournalMetrics(akka);
            akka.AddAlertsAndSlos(sp);
            akka.AddTreasury(sp);
            metrics.AddRebalanceMetrics(akka);
        });
        builder.Services.AddHostedService<PoolBootstrapService>();
        if (gpm.Devnet.Enabled) builder.Services.AddHostedService<DevnetOperatorService>();

        builder.Services.AddHealthChecks()
            .AddCheck<ClusterUpHealthCheck>("cluster", tags: [ReadyTag])
            .AddCheck<JournalHealthCheck>("journal", tags: [ReadyTag])
            .AddCheck<ChainsHealthCheck>("chains", tags: [ReadyTag])
            .AddCheck<MarketHealthCheck>("market", tags: [ReadyTag])
            .AddCheck<DirectoryHealthCheck>("directory", tags: [ReadyTag]);

        overrides?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseExceptionHandler(errors => errors.Run(context =>
            (context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Error is AskTimeoutException
                // An actor that did not answer in time (a singleton moving, a busy journal): the change may still apply.
                ? Problems.Of(StatusCodes.Status503ServiceUnavailable, "timeout", "A part of the cluster did not answer in time; the request may still apply. Check, then retry.",
                    retryAfterSeconds: 2)
                : Problems.Of(StatusCodes.Status500InternalServerError, "internal_error", "An unexpected error; it was logged.")).ExecuteAsync(context)));
        // Unknown routes and wrong methods answer problem+json like everything else.
        app.UseStatusCodePages(context => context.HttpContext.Response.HasStarted
            ? Task.CompletedTask
            : Problems.Of(context.HttpContext.Response.StatusCode, context.HttpContext.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => "not_found",
                StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
                _ => "invalid_request",
            }, $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path} is not part of this API.").ExecuteAsync(context.HttpContext));
        AdminExposure.UseSeparateListeners(app, admin);
        metrics.UseApiMetrics(app);
        metrics.ObserveBoards(app.Services.GetRequiredService<PoolModeDirectory>(), app.Services.GetRequiredService<GasMarketBoard>(),
            app.Services.GetRequiredService<ChainRpcDirectory>());
        metrics.ObserveAlertsAndSlos(app.Services);
        metrics.ObserveTreasury(app.Services.GetRequiredService<Treasury.TreasuryBoard>(), app.Services.GetRequiredService<ChainRpcDirectory>());
        app.MapDappApi();
        app.MapAdminApi();
        // Prometheus scrapes here (unauthenticated, like /health: the operators' own network; roles come with the admin address).
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        return app;
    }

    /// <summary>
    /// The devnet wallet seed is public (it is in this repository): a node that would hold real funds with it
    /// must not start. Real deployments bring their own keys (the vault issue); until then, loopback chains only.
    /// </summary>
    private static void RefusePublicDevSeedOnRealChains(GpmOptions gpm)
    {
        if (gpm.Wallets.DevSeed != new WalletOptions().DevSeed) return;
        var remote = gpm.EffectiveChains.FirstOrDefault(c => c.AllRpcUrls.Any(url => !Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.IsLoopback));
        if (remote is not null)
            // The chain is named, not its URL: endpoint URLs can carry provider keys and never reach a log.
            throw new InvalidOperationException(
                $"Gpm:Wallets:DevSeed is the public devnet seed, but an RPC endpoint of chain {remote.Name} ({remote.ChainId}) is not on this machine. Set a private seed.");
    }

    /// <summary><c>hocon/market.hocon</c> under the operator's <c>Gpm:Market:Hocon</c>.</summary>
    private static Akka.Configuration.Config MarketHocon(IServiceProvider services) =>
        Akka.Configuration.ConfigurationFactory.ParseString(services.GetRequiredService<IOptions<MarketOptions>>().Value.Hocon)
            .WithFallback(PersistenceHocon.Load("market.hocon"));

    /// <summary>Each chain's rate sources (<see cref="ChainOptions.RateSources"/>; unset: its configured rates).</summary>
    private static IReadOnlyList<RateOracleSettings> RateOracles(GpmOptions gpm, IServiceProvider services)
    {
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(Microsoft.Extensions.Options.Options.DefaultName);
        var market = services.GetRequiredService<IOptions<MarketOptions>>().Value;
        var hocon = MarketHocon(services).GetConfig("gpm.market.rates");
        return gpm.EffectiveChains.Select(chain =>
        {
            var options = chain.RateSources.Count > 0 ? chain.RateSources : [new RateSourceOptions()];
            var sources = options.Select((source, i) => source.Kind switch
            {
                "configured" => (IRateSource)new ConfiguredRateSource($"configured@{chain.Name}#{i}", market.ConfiguredRates(chain.ChainId), source.Seed),
                "http" when Uri.TryCreate(source.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" =>
                    new HttpRateSource($"http@{chain.Name}#{i}", http, url),
                _ => throw new InvalidOperationException(
                    $"Rate source {i} of chain {chain.Name}: kind must be 'configured' or 'http' (with an absolute http(s) Url), not '{source.Kind}'."),
            }).ToArray();
            return new RateOracleSettings(chain.ChainId, sources, hocon.GetTimeSpan("tick"), hocon.GetTimeSpan("source-timeout"), hocon.GetTimeSpan("fresh-for"),
                hocon.GetInt("outlier-ratio"));
        }).ToArray();
    }

    /// <summary>Each chain's gas sources, each on its own endpoint client (independent of the failover the pools use).</summary>
    private static IReadOnlyList<GasOracleSettings> GasOracles(GpmOptions gpm, IServiceProvider services)
    {
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(Microsoft.Extensions.Options.Options.DefaultName);
        var defaults = MarketHocon(services).GetConfig("gpm.market.gas");
        return gpm.EffectiveChains.Select(chain =>
        {
            var sources = chain.EffectiveGasSources.Select((source, i) =>
            {
                if (source.Kind == "http")
                    return Uri.TryCreate(source.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                        ? (IGasSource)new HttpGasSource($"http@{chain.Name}#{i}", http, url, source.Field)
                        : throw new InvalidOperationException($"Gas source {i} of chain {chain.Name} is http but has no absolute http(s) Url.");
                if (source.Endpoint < 0 || source.Endpoint >= chain.RpcUrls.Count)
                    throw new InvalidOperationException($"Gas source {i} of chain {chain.Name} names endpoint {source.Endpoint}; the chain has {chain.RpcUrls.Count} RPC URL(s).");
                var client = new EthRpcClient(http, new Uri(chain.RpcUrls[source.Endpoint]), label: $"{chain.Name}#{source.Endpoint}");
                return GasSourceKinds.Create(source.Kind, $"{source.Kind}@{chain.Name}#{source.Endpoint}", client, chain.ChainId,
                    services.GetRequiredService<TimeProvider>(), defaults.GetDouble("fee-history-percentile"));
            }).ToArray();
            // Congestion is read where the chain's first endpoint offers txpool_status.
            var mempool = new ChainIdGuard(new EthRpcClient(http, new Uri(chain.RpcUrls[0]), label: $"{chain.Name}#0"), chain.ChainId,
                services.GetRequiredService<TimeProvider>());
            return GasOracleSettings.FromConfig(defaults, chain.ChainId, sources, async ct =>
            {
                await mempool.EnsureAsync(ct);
                return (await mempool.Client.TxPoolStatusAsync(ct)).Pending;
            });
        }).ToArray();
    }

    /// <summary>The edge's guards of issue 9 (DESIGN.md §9): directory, denylist replica, budgets, THROTTLED and overload.</summary>
    private static void AddPolicy(IServiceCollection services, PolicySettings policy)
    {
        services.AddSingleton(policy);
        services.AddSingleton<DappDirectory>();
        services.AddSingleton<DenylistBoard>();
        services.AddSingleton<Domain.Compliance.IDenylist>(sp => sp.GetRequiredService<DenylistBoard>());
        services.AddSingleton(sp => new IpBudget(policy.Unauthenticated, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new WalletWatch(policy.Denylist, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DenylistRules>(sp, policy.Denylist));
        services.AddSingleton(sp => new ThrottleGuard(policy.Quotes, policy.Throttle, sp.GetRequiredService<TimeProvider>(), change =>
        {
            // Each edge throttles on its own buckets; the dApp journals every entry and exit (its audit log).
            if (sp.GetRequiredService<ActorRegistry>().TryGet<DappRegion>(out var dapps))
                dapps.Tell(new Domain.Dapps.DappCommands.ReportThrottle(change.DappId, change.Throttled, change.Reason, change.Until,
                    Domain.Common.Meta.System("edge-throttle", change.Throttled ? $"THROTTLED: {change.Reason}" : "THROTTLED lifted: cooldown over",
                        sp.GetRequiredService<TimeProvider>().GetUtcNow())));
        }));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DappGate>(sp, policy.Overload, policy.IgnoredRetryDelay));
    }

    private static void ConfigureAkka(AkkaConfigurationBuilder akka, GpmOptions gpm, PolicySettings policy, IServiceProvider services)
    {
        var clock = services.GetRequiredService<TimeProvider>();
        var chains = services.GetRequiredService<ChainRpcDirectory>();
        var modes = services.GetRequiredService<PoolModeDirectory>();
        var poolPolicy = new Domain.Pools.PoolPolicy { StuckAfter = gpm.Pools.StuckAfter, GapFillAfter = gpm.Pools.GapFillAfter, ResumeAfter = gpm.Pools.ResumeAfter,
            MaxInFlightPerWorker = gpm.Pools.MaxInFlightPerWorker };
        var poolDependencies = new PoolDependencies(
            chainId => chains.Find(chainId)?.PoolChain,
            services.GetRequiredService<IWalletKeys>(),
            clock,
            chainId => new PoolSettings
            {
                RebroadcastAfter = gpm.Pools.RebroadcastAfter,
                ConfirmationDepth = chains.Find(chainId)?.ConfirmationDepth ?? 0,
                Policy = poolPolicy with { SafeMode = services.GetRequiredService<SafeModeQuoting>().Policy(chainId.Value) },
            },
            PoolModeReplication.Publish)
        {
            Signing = services.GetRequiredService<SigningTimes>(),
            BalanceChanged = GrandPaymaster.Actors.Treasury.OrchestratorHosting.HintBalanceChanged,
        };

        akka.AddHocon(PersistenceHocon.For(gpm.Persistence.ToSettings()), HoconAddMode.Prepend)
            .AddHocon(PersistenceHocon.Load("akka.hocon"), HoconAddMode.Append)
            // Akka's log goes through Microsoft.Extensions.Logging, so one set of levels and sinks governs both.
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithRemoting(gpm.Node.Hostname, gpm.Node.Port)
            .WithClustering(new ClusterOptions
            {
                Roles = gpm.Node.EffectiveRoles.ToArray(),
                SeedNodes = gpm.Node.SeedNodes.ToArray(),
            })
            .AddPoolModes(modes)
            .AddChainPools(poolDependencies)
            .AddMarket(GasOracles(gpm, services), RateOracles(gpm, services), services.GetRequiredService<GasMarketBoard>(),
                services.GetRequiredService<RateBoard>(), clock)
            .AddDenylist(services.GetRequiredService<DenylistBoard>(), clock)
            .AddOperatorRegistry()
            .AddDapps(clock, new DappSettings
            {
                QuoteValidity = gpm.Quotes.Validity,
                MaxOpenQuotes = policy.MaxOpenQuotes,
                MaxOpenQuoteBytes = policy.MaxOpenQuoteBytes,
                Fraud = policy.Fraud,
                PublishDirectory = DappDirectoryFeed.Publish,
            }, modes, services.GetRequiredService<DenylistBoard>())
            .AddDappDirectory(services.GetRequiredService<DappDirectory>())
            .AddAudit(gpm.Persistence.DataDirectory, services.GetRequiredService<IConfiguration>()["Gpm:Audit:KeyFile"])
            .AddTimelock(services.GetRequiredService<Domain.Timelock.TimelockPolicy>(), clock)
            .AddVault(VaultWiring.DependenciesFor(gpm, chains, clock, services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IWalletKeys>()))
            .AddStartup((system, _) =>
            {
                // No seed nodes: this node is a cluster of one and joins itself (its port may be 0 until bound).
                if (gpm.Node.SeedNodes.Count == 0) Cluster.Get(system).Join(Cluster.Get(system).SelfAddress);
            });
    }
}
