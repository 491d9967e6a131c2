using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Alerts;
using GrandPaymaster.Actors.Market;
using GrandPaymaster.Actors.Pools;
using GrandPaymaster.Domain.Slo;
using GrandPaymaster.Node.Hosting;
using GrandPaymaster.Node.Observability;

namespace GrandPaymaster.Node.Alerts;

/// <summary>Wires alerts, SLOs and their metrics into the node (one call each from <see cref="NodeApp"/>).</summary>
public static class AlertsSetup
{
    /// <summary>Settings (<c>Gpm:Alerts</c>), the SLO book, the SSE hub, signing times, the pager and the balance reader.</summary>
    public static void AddAlertsAndSlos(this WebApplicationBuilder builder)
    {
        var settings = AlertSettings.Load(builder.Configuration.GetSection("Gpm:Alerts").Get<AlertOptions>() ?? new AlertOptions());
        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(settings.Slos);
        services.AddSingleton(new AlertStreamHub(settings.Stream, settings.Store.Limits.MaxUnresolved));
        services.AddSingleton(new SigningTimes(settings.Watch.SigningWindow));
        services.AddSingleton<IPager>(sp => new PagerDutyClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(Microsoft.Extensions.Options.Options.DefaultName), settings.Store.Paging));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<PoolBalances>(sp, settings.BalanceEvery));
        services.AddHostedService(sp => sp.GetRequiredService<PoolBalances>());
    }

    /// <summary>The alert store singleton (on <c>core</c> nodes), this node's listener and its watch.</summary>
    public static AkkaConfigurationBuilder AddAlertsAndSlos(this AkkaConfigurationBuilder akka, IServiceProvider services)
    {
        var settings = services.GetRequiredService<AlertSettings>();
        var clock = services.GetRequiredService<TimeProvider>();
        var sources = new WatchedSources(services.GetRequiredService<PoolModeDirectory>(), services.GetRequiredService<ChainRpcDirectory>(),
            services.GetRequiredService<GasMarketBoard>(), services.GetRequiredService<SigningTimes>(), settings.Slos);
        return akka
            .AddAlerts(settings.Store, services.GetRequiredService<IPager>(), clock, services.GetRequiredService<AlertStreamHub>())
            .WithActors((system, registry) => system.ActorOf(AlertWatch.PropsFor(sources, settings.Watch, clock, registry.Get<AlertsSingleton>()), "alert-watch"));
    }

    /// <summary>Starts counting the dApp API into the SLOs and exposes alerts, SLOs and balances in <c>/metrics</c>.</summary>
    public static void ObserveAlertsAndSlos(this PaymasterMetrics metrics, IServiceProvider services)
    {
        var settings = services.GetRequiredService<AlertSettings>();
        metrics.ObserveAlertsAndSlos(settings.Slos, services.GetRequiredService<TimeProvider>(), settings.QuoteLatencyBound,
            services.GetRequiredService<AlertStreamHub>(), services.GetRequiredService<PoolBalances>());
    }
}
